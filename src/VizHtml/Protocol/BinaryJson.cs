using System.Text.Json;
using System.Text.Json.Serialization;

namespace VizHtml.Protocol;

/// <summary>
/// JSON with binary parts: rents out <see cref="JsonSerializerOptions"/> (copies of the server's) whose converters for
/// <c>byte[]</c>, <see cref="ReadOnlyMemory{T}"/> and <see cref="Memory{T}"/> of bytes write a placeholder
/// <c>{"$bin":i}</c> and collect the bytes as part i (serializing), or resolve a placeholder to part i (binding).
/// </summary>
/// <remarks>
/// Why rented options and not one shared converter: the converter must know which message's parts it adds to or reads
/// from, and System.Text.Json gives a converter no per-call state. A thread-static list would be ambient state deciding what
/// a call does (a converter that sends from inside a serialization, or an async continuation, would find the wrong one).
/// Here the parts belong to the <see cref="Rental"/>, and the rental to exactly one serialization or binding at a time;
/// a nested serialization rents its own. Options are expensive to make cold (each caches its contracts), so rentals go back
/// to a small pool and stay warm; one made when the pool is empty is kept if there is room, else left to the collector.
/// </remarks>
internal sealed class BinaryJson
{
    /// <summary>The one member of a placeholder object.</summary>
    public static readonly JsonEncodedText PlaceholderName = JsonEncodedText.Encode("$bin");

    private readonly JsonSerializerOptions _baseOptions;
    private readonly Rental?[] _pool = new Rental?[Math.Max(4, Environment.ProcessorCount * 2)];

    public BinaryJson(JsonSerializerOptions baseOptions) => _baseOptions = baseOptions;

    /// <summary>Takes options for one serialization (collects parts) or one binding (of <paramref name="received"/>).</summary>
    public Rental Rent(IReadOnlyList<ReadOnlyMemory<byte>>? received = null)
    {
        var start = Environment.CurrentManagedThreadId % _pool.Length;
        for (var i = 0; i < _pool.Length; i++)
        {
            if (Interlocked.Exchange(ref _pool[(start + i) % _pool.Length], null) is { } rental)
            {
                rental.Received = received;
                return rental;
            }
        }

        return new Rental(_baseOptions) { Received = received };
    }

    /// <summary>Gives a rental back (its parts are forgotten).</summary>
    public void Return(Rental rental)
    {
        rental.Written.Clear();
        rental.Received = null;
        var start = Environment.CurrentManagedThreadId % _pool.Length;
        for (var i = 0; i < _pool.Length; i++)
        {
            if (Interlocked.CompareExchange(ref _pool[(start + i) % _pool.Length], rental, null) is null)
            {
                return;
            }
        }
    }

    /// <summary>Binds <paramref name="data"/> to <typeparamref name="T"/>, placeholders resolved to <paramref name="parts"/>.</summary>
    public T Bind<T>(VizData data, IReadOnlyList<ReadOnlyMemory<byte>> parts)
    {
        var rental = Rent(parts);
        try
        {
            return data.As<T>(rental.Options);
        }
        finally
        {
            Return(rental);
        }
    }

    /// <summary>
    /// The bytes a value of a message's data stands for: a placeholder <c>{"$bin": i}</c> gives part i, a string is read as
    /// base64 (the form of a client without binary). For the events' <c>GetBytes</c>.
    /// </summary>
    public static ReadOnlyMemory<byte> GetBytes(VizData value, IReadOnlyList<ReadOnlyMemory<byte>> parts, string eventName)
    {
        ArgumentNullException.ThrowIfNull(value);
        if (value.Kind == VizDataKind.String)
        {
            return Convert.FromBase64String(value.GetString());
        }

        if (value.Kind == VizDataKind.Object && value.Count == 1 && value.TryGet("$bin", out var index) && index.Kind == VizDataKind.Number)
        {
            var i = index.GetDouble();
            if (i >= 0 && i < parts.Count && i == Math.Floor(i))
            {
                return parts[(int)i];
            }
        }

        throw new FormatException($"the value is neither a binary part of event '{eventName}' ({{\"$bin\": index}}) nor base64 text");
    }

    /// <summary>One serialization's or binding's options, with the parts they collect or resolve.</summary>
    public sealed class Rental
    {
        internal Rental(JsonSerializerOptions baseOptions)
        {
            Options = new JsonSerializerOptions(baseOptions);
            Options.Converters.Insert(0, new ByteArrayConverter(this));
            Options.Converters.Insert(0, new ReadOnlyMemoryConverter(this));
            Options.Converters.Insert(0, new MemoryConverter(this));
        }

        public JsonSerializerOptions Options { get; }

        /// <summary>The parts written so far, in placeholder order.</summary>
        public List<ReadOnlyMemory<byte>> Written { get; } = [];

        /// <summary>The parts placeholders refer to while binding.</summary>
        public IReadOnlyList<ReadOnlyMemory<byte>>? Received { get; set; }

        internal void WritePart(Utf8JsonWriter writer, ReadOnlyMemory<byte> bytes)
        {
            writer.WriteStartObject();
            writer.WriteNumber(PlaceholderName, Written.Count);
            writer.WriteEndObject();
            Written.Add(bytes);
        }

        internal ReadOnlyMemory<byte> ReadPart(ref Utf8JsonReader reader)
        {
            switch (reader.TokenType)
            {
                case JsonTokenType.String:
                    // A client without binary sends bytes as base64 text (the form System.Text.Json reads by default).
                    return reader.GetBytesFromBase64();
                case JsonTokenType.StartObject:
                    if (reader.Read() && reader.TokenType == JsonTokenType.PropertyName && reader.ValueTextEquals(PlaceholderName.EncodedUtf8Bytes)
                        && reader.Read() && reader.TokenType == JsonTokenType.Number && reader.TryGetInt32(out var index)
                        && reader.Read() && reader.TokenType == JsonTokenType.EndObject
                        && Received is { } parts && index >= 0 && index < parts.Count)
                    {
                        return parts[index];
                    }

                    throw new JsonException("expected a binary part's placeholder {\"$bin\": index} of one of the message's parts");
                default:
                    throw new JsonException($"expected bytes (a binary part or a base64 string), found {reader.TokenType}");
            }
        }
    }

    private sealed class ByteArrayConverter(Rental rental) : JsonConverter<byte[]>
    {
        public override byte[]? Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
        {
            if (reader.TokenType == JsonTokenType.Null)
            {
                return null;
            }

            var part = rental.ReadPart(ref reader);

            // A part received whole is its own array: handed over without a copy.
            return System.Runtime.InteropServices.MemoryMarshal.TryGetArray(part, out var segment) && segment.Offset == 0 && segment.Count == segment.Array!.Length
                ? segment.Array
                : part.ToArray();
        }

        public override void Write(Utf8JsonWriter writer, byte[] value, JsonSerializerOptions options) => rental.WritePart(writer, value);
    }

    private sealed class ReadOnlyMemoryConverter(Rental rental) : JsonConverter<ReadOnlyMemory<byte>>
    {
        public override ReadOnlyMemory<byte> Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
            reader.TokenType == JsonTokenType.Null ? default : rental.ReadPart(ref reader);

        public override void Write(Utf8JsonWriter writer, ReadOnlyMemory<byte> value, JsonSerializerOptions options) => rental.WritePart(writer, value);
    }

    private sealed class MemoryConverter(Rental rental) : JsonConverter<Memory<byte>>
    {
        public override Memory<byte> Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
        {
            if (reader.TokenType == JsonTokenType.Null)
            {
                return default;
            }

            // Writable memory: the part's own array when it is one, else a copy.
            var part = rental.ReadPart(ref reader);
            return System.Runtime.InteropServices.MemoryMarshal.TryGetArray(part, out var segment) ? segment.Array.AsMemory(segment.Offset, segment.Count) : part.ToArray();
        }

        public override void Write(Utf8JsonWriter writer, Memory<byte> value, JsonSerializerOptions options) => rental.WritePart(writer, value);
    }
}
