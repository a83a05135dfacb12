using System.Diagnostics.CodeAnalysis;
using System.Dynamic;
using System.Globalization;
using System.Linq.Expressions;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;

namespace VizHtml;

/// <summary>The JSON shape a <see cref="VizData"/> holds.</summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Naming", "CA1720", Justification = "The names are JSON's kinds, as in JsonValueKind.")]
public enum VizDataKind
{
    /// <summary>JSON <c>null</c> (also an absent <c>data</c> member).</summary>
    Null,

    /// <summary>An attribute bag: a JSON object.</summary>
    Object,

    /// <summary>A JSON array.</summary>
    Array,

    /// <summary>A JSON string.</summary>
    String,

    /// <summary>A JSON number.</summary>
    Number,

    /// <summary>JSON <c>true</c> or <c>false</c>.</summary>
    Boolean,
}

/// <summary>
/// An event payload: the counterpart of the original's <c>viz.Data</c> attribute bag, and the type of every received value.
/// </summary>
/// <remarks>
/// Read it the way that suits the code: <c>dynamic d = e.Data; int n = d.count;</c>, the indexer
/// (<c>(int)e.Data["count"]</c>), typed getters (<c>e.Data.GetInt32("count")</c>), or binding to a type
/// (<c>e.Data.As&lt;ButtonClick&gt;()</c>). Build one to send with an initializer
/// (<c>new VizData { ["count"] = 3, ["pos"] = new[] { 1.5, 2.5 }, ["names"] = new List&lt;string&gt; { "a", "b" } }</c>:
/// numbers, booleans and strings, and arrays and <see cref="List{T}"/>s of them or of <see cref="VizData"/>, convert
/// implicitly) or <see cref="From(object?, JsonSerializerOptions?)"/>.
/// Not thread-safe for writes; a received value is not shared with other handlers' threads.
/// </remarks>
[JsonConverter(typeof(VizDataJsonConverter))]
public sealed class VizData : DynamicObject, IEquatable<VizData>
{
    // Numbers, strings and booleans (the Get* methods) bind through source-generated metadata, so they need no reflection
    // (IL2CPP, trimmed apps); other types through reflection, where the application has it.
    private static readonly JsonSerializerOptions DefaultBindingOptions = new(JsonSerializerDefaults.Web)
    {
        TypeInfoResolver = JsonSerializer.IsReflectionEnabledByDefault
            ? System.Text.Json.Serialization.Metadata.JsonTypeInfoResolver.Combine(VizDataValues.Default, new System.Text.Json.Serialization.Metadata.DefaultJsonTypeInfoResolver())
            : VizDataValues.Default,
    };

    // A received value keeps its JSON text (_received, already validated by the envelope reader) and builds the tree the
    // first time anything reads it; a value that is only passed on (an echo, a relay to other clients) is written back
    // from the text and never parsed into a tree. Built values have no text.
    private JsonNode? _built;
    private byte[]? _received;
    private readonly int _receivedDepth;

    /// <summary>Creates an empty attribute bag (a JSON object).</summary>
    public VizData() => _built = new JsonObject();

    private VizData(JsonNode? node) => _built = node;

    private VizData(byte[] json, int maxDepth)
    {
        _received = json;
        _receivedDepth = maxDepth;
    }

    /// <summary>The JSON <c>null</c> value.</summary>
    public static VizData Null => new((JsonNode?)null);

    /// <summary>What this value holds.</summary>
    public VizDataKind Kind => Node?.GetValueKind() switch
    {
        null or JsonValueKind.Null or JsonValueKind.Undefined => VizDataKind.Null,
        JsonValueKind.Object => VizDataKind.Object,
        JsonValueKind.Array => VizDataKind.Array,
        JsonValueKind.String => VizDataKind.String,
        JsonValueKind.Number => VizDataKind.Number,
        _ => VizDataKind.Boolean,
    };

    /// <summary>Whether this is JSON <c>null</c>.</summary>
    public bool IsNull => Kind == VizDataKind.Null;

    /// <summary>The number of members of an object or elements of an array; 0 for other kinds.</summary>
    public int Count => Node switch
    {
        JsonObject o => o.Count,
        JsonArray a => a.Count,
        _ => 0,
    };

    /// <summary>The member names of an object, in received order; empty for other kinds.</summary>
    public IEnumerable<string> Names => Node is JsonObject o ? o.Select(p => p.Key).ToArray() : [];

    /// <summary>Gets or sets a member of an object.</summary>
    /// <param name="name">The member name (case-sensitive, as sent).</param>
    /// <exception cref="KeyNotFoundException">On get, when the object has no such member.</exception>
    /// <exception cref="InvalidOperationException">When this value is not an object.</exception>
    public VizData this[string name]
    {
        get
        {
            var obj = RequireObject(name);
            return obj.TryGetPropertyValue(name, out var child)
                ? new VizData(child)
                : throw new KeyNotFoundException($"The data has no member '{name}'. Members: {string.Join(", ", obj.Select(p => p.Key))}.");
        }

        set
        {
            ArgumentNullException.ThrowIfNull(name);
            RequireObject(name)[name] = Detach(value?.Node);
        }
    }

    /// <summary>Gets or sets an element of an array.</summary>
    /// <exception cref="InvalidOperationException">When this value is not an array.</exception>
    /// <exception cref="ArgumentOutOfRangeException">When the index is outside the array.</exception>
    public VizData this[int index]
    {
        get => new(RequireArray()[index]);
        set => RequireArray()[index] = Detach(value?.Node);
    }

    /// <summary>Makes a value from anything System.Text.Json can write (numbers, strings, lists, dictionaries, records, anonymous objects).</summary>
    /// <param name="value">The value; <see langword="null"/> gives JSON <c>null</c>.</param>
    /// <param name="options">Serializer options; <value>by default camelCase property names (<see cref="JsonSerializerDefaults.Web"/>)</value>.</param>
    public static VizData From(object? value, JsonSerializerOptions? options = null) => value switch
    {
        null => Null,
        VizData data => data,
        JsonNode node => new VizData(node.DeepClone()),
        _ => new VizData(JsonSerializer.SerializeToNode(value, value.GetType(), options ?? DefaultBindingOptions)),
    };

    /// <summary>Parses JSON text into a value.</summary>
    /// <exception cref="JsonException">When <paramref name="json"/> is not valid JSON.</exception>
    public static VizData Parse(string json)
    {
        try
        {
            var node = JsonNode.Parse(json, documentOptions: new JsonDocumentOptions { AllowDuplicateProperties = false });

            // Escaped lone surrogates parse but cannot be written back: refuse them now rather than in ToJson later.
            _ = node?.ToJsonString();
            return new(node);
        }
        catch (InvalidOperationException ex)
        {
            throw new JsonException("The JSON contains an escaped lone surrogate, which is not valid Unicode text.", ex);
        }
    }

    internal static VizData FromNode(JsonNode? node) => new(node);

    internal JsonNode? Node => Volatile.Read(ref _received) is null ? _built : BuildReceived();

    /// <summary>
    /// A received value from its JSON text, which the caller has validated (syntax, depth, no duplicate names); not JSON
    /// <c>null</c>. The tree is built on first use.
    /// </summary>
    internal static VizData FromReceived(byte[] json, int maxDepth) => new(json, maxDepth);

    /// <summary>Writes the value: a received one that nothing has read yet as the text it arrived in.</summary>
    internal void WriteTo(Utf8JsonWriter writer, JsonSerializerOptions options)
    {
        if (Volatile.Read(ref _received) is { } json)
        {
            writer.WriteRawValue(json, skipInputValidation: true);
        }
        else if (_built is null)
        {
            writer.WriteNullValue();
        }
        else
        {
            _built.WriteTo(writer, options);
        }
    }

    private JsonNode? BuildReceived()
    {
        // Two threads reading a received value at once both parse it; both then use the first tree stored.
        var json = Volatile.Read(ref _received);
        if (json is null)
        {
            return _built;
        }

        var parsed = JsonNode.Parse(json, nodeOptions: null, new JsonDocumentOptions { MaxDepth = _receivedDepth });
        var node = Interlocked.CompareExchange(ref _built, parsed, null) ?? parsed;
        Volatile.Write(ref _received, null);
        return node;
    }

    /// <summary>Whether an object has the member <paramref name="name"/>.</summary>
    public bool Has(string name) => Node is JsonObject o && o.ContainsKey(name);

    /// <summary>Gets a member if this is an object that has it.</summary>
    public bool TryGet(string name, [NotNullWhen(true)] out VizData? value)
    {
        if (Node is JsonObject o && o.TryGetPropertyValue(name, out var child))
        {
            value = new VizData(child);
            return true;
        }

        value = null;
        return false;
    }

    /// <summary>Adds or replaces a member of an object, converting <paramref name="value"/> as <see cref="From(object?, JsonSerializerOptions?)"/> does.</summary>
    /// <returns>This value, so calls chain.</returns>
    public VizData Set(string name, object? value)
    {
        this[name] = From(value);
        return this;
    }

    /// <summary>Removes a member of an object.</summary>
    /// <returns>Whether the member was there.</returns>
    public bool Remove(string name) => RequireObject(name).Remove(name);

    /// <summary>Appends an element to an array.</summary>
    public void Add(object? value) => RequireArray().Add(Detach(From(value).Node));

    /// <summary>Creates an empty array value.</summary>
    public static VizData NewArray() => new(new JsonArray());

    /// <summary>The elements of an array (each a <see cref="VizData"/>).</summary>
    /// <exception cref="InvalidOperationException">When this value is not an array.</exception>
    public IReadOnlyList<VizData> AsList() => RequireArray().Select(n => new VizData(n)).ToArray();

    /// <summary>Binds the value to <typeparamref name="T"/> (case-insensitive member names by default).</summary>
    /// <exception cref="JsonException">When the value does not fit <typeparamref name="T"/>.</exception>
    public T As<T>(JsonSerializerOptions? options = null)
    {
        // A received value nothing has read yet binds straight from its text, without building the tree.
        if (Volatile.Read(ref _received) is { } json)
        {
            return JsonSerializer.Deserialize<T>(json, options ?? DefaultBindingOptions)!;
        }

        var node = Node;
        if (node is null || Kind == VizDataKind.Null)
        {
            return default(T) is null ? default! : throw new JsonException($"null cannot be bound to {typeof(T).Name}.");
        }

        return node.Deserialize<T>(options ?? DefaultBindingOptions)!;
    }

    /// <summary>Binds the value to <paramref name="type"/>.</summary>
    public object? As(Type type, JsonSerializerOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(type);
        if (Volatile.Read(ref _received) is { } json)
        {
            return JsonSerializer.Deserialize(json, type, options ?? DefaultBindingOptions);
        }

        return Node is { } node ? node.Deserialize(type, options ?? DefaultBindingOptions) : null;
    }

    /// <summary>Binds a member to <typeparamref name="T"/>.</summary>
    public T Get<T>(string name, JsonSerializerOptions? options = null) => this[name].As<T>(options);

    /// <summary>The value as a 32-bit integer.</summary>
    /// <exception cref="InvalidOperationException">When it is not a number that fits.</exception>
    public int GetInt32() => Convert<int>();

    /// <summary>The value as a 64-bit integer.</summary>
    public long GetInt64() => Convert<long>();

    /// <summary>The value as a double.</summary>
    public double GetDouble() => Convert<double>();

    /// <summary>The value as a string (only for a JSON string).</summary>
    public string GetString() => Convert<string>();

    /// <summary>The value as a boolean (only for JSON true or false).</summary>
    public bool GetBoolean() => Convert<bool>();

    /// <summary>A member as a 32-bit integer.</summary>
    public int GetInt32(string name) => this[name].GetInt32();

    /// <summary>A member as a 64-bit integer.</summary>
    public long GetInt64(string name) => this[name].GetInt64();

    /// <summary>A member as a double.</summary>
    public double GetDouble(string name) => this[name].GetDouble();

    /// <summary>A member as a string.</summary>
    public string GetString(string name) => this[name].GetString();

    /// <summary>A member as a boolean.</summary>
    public bool GetBoolean(string name) => this[name].GetBoolean();

    /// <summary>The value as compact JSON text.</summary>
    public string ToJson() => Node?.ToJsonString() ?? "null";

    /// <summary>A string's own text; JSON text for every other kind.</summary>
    public override string ToString() => Kind == VizDataKind.String ? GetString() : ToJson();

    /// <summary>Structural equality: same kind, same members and elements, same numbers.</summary>
    public bool Equals(VizData? other)
    {
        if (other is null)
        {
            return false;
        }

        try
        {
            return JsonNode.DeepEquals(Node, other.Node);
        }
        catch (ArgumentOutOfRangeException)
        {
            // A number whose exponent does not fit in 32 bits cannot be compared by value; compare the text.
            return ToJson() == other.ToJson();
        }
    }

    /// <inheritdoc/>
    public override bool Equals(object? obj) => obj is VizData other ? Equals(other) : Equals(From(obj));

    /// <inheritdoc/>
    /// <remarks>Consistent with <see cref="Equals(VizData?)"/>: member order does not matter, numbers hash by value.</remarks>
    public override int GetHashCode() => Hash(Node);

    private static int Hash(JsonNode? node)
    {
        switch (node)
        {
            case null:
                return 0;
            case JsonObject obj:
                // Order-independent: members are combined with an XOR of their own hashes.
                var members = 17;
                foreach (var (key, member) in obj)
                {
                    members ^= HashCode.Combine(StringComparer.Ordinal.GetHashCode(key), Hash(member));
                }

                return members;
            case JsonArray array:
                var elements = new HashCode();
                foreach (var item in array)
                {
                    elements.Add(Hash(item));
                }

                return elements.ToHashCode();
            default:
                var value = new VizData(node);
                return value.Kind switch
                {
                    VizDataKind.Number => double.TryParse(node.ToJsonString(), System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var d) ? d.GetHashCode() : 0,
                    VizDataKind.String => StringComparer.Ordinal.GetHashCode(value.GetString()),
                    VizDataKind.Boolean => value.GetBoolean() ? 1 : 2,
                    _ => 0,
                };
        }
    }

#pragma warning disable CA2225 // Named alternates exist: From(object) and the Get* methods.
    /// <summary>Wraps an integer.</summary>
    public static implicit operator VizData(int value) => new(JsonValue.Create(value));

    /// <summary>Wraps an integer.</summary>
    public static implicit operator VizData(long value) => new(JsonValue.Create(value));

    /// <summary>Wraps a number.</summary>
    public static implicit operator VizData(double value) => new(JsonValue.Create(value));

    /// <summary>Wraps a boolean.</summary>
    public static implicit operator VizData(bool value) => new(JsonValue.Create(value));

    /// <summary>Wraps a string (<see langword="null"/> gives JSON null).</summary>
    public static implicit operator VizData(string? value) => new(value is null ? null : JsonValue.Create(value));

    /// <summary>Wraps integers as a JSON array (<see langword="null"/> gives JSON null).</summary>
    public static implicit operator VizData(int[]? values) => ArrayOf(values, static v => JsonValue.Create(v));

    /// <summary>Wraps integers as a JSON array (<see langword="null"/> gives JSON null).</summary>
    public static implicit operator VizData(long[]? values) => ArrayOf(values, static v => JsonValue.Create(v));

    /// <summary>Wraps numbers as a JSON array (<see langword="null"/> gives JSON null).</summary>
    public static implicit operator VizData(double[]? values) => ArrayOf(values, static v => JsonValue.Create(v));

    /// <summary>Wraps booleans as a JSON array (<see langword="null"/> gives JSON null).</summary>
    public static implicit operator VizData(bool[]? values) => ArrayOf(values, static v => JsonValue.Create(v));

    /// <summary>Wraps strings as a JSON array; a <see langword="null"/> element is JSON null, as is a <see langword="null"/> array.</summary>
    public static implicit operator VizData(string?[]? values) => ArrayOf(values, static v => v is null ? null : JsonValue.Create(v));

    /// <summary>Wraps values as a JSON array (nested objects and arrays are copied); a <see langword="null"/> array is JSON null.</summary>
    public static implicit operator VizData(VizData?[]? values) => ArrayOf(values, static v => v?.Node?.DeepClone());

    /// <summary>Wraps integers as a JSON array (<see langword="null"/> gives JSON null).</summary>
    public static implicit operator VizData(List<int>? values) => ArrayOf(values, static v => JsonValue.Create(v));

    /// <summary>Wraps integers as a JSON array (<see langword="null"/> gives JSON null).</summary>
    public static implicit operator VizData(List<long>? values) => ArrayOf(values, static v => JsonValue.Create(v));

    /// <summary>Wraps numbers as a JSON array (<see langword="null"/> gives JSON null).</summary>
    public static implicit operator VizData(List<double>? values) => ArrayOf(values, static v => JsonValue.Create(v));

    /// <summary>Wraps booleans as a JSON array (<see langword="null"/> gives JSON null).</summary>
    public static implicit operator VizData(List<bool>? values) => ArrayOf(values, static v => JsonValue.Create(v));

    /// <summary>Wraps strings as a JSON array; a <see langword="null"/> element is JSON null, as is a <see langword="null"/> list.</summary>
    public static implicit operator VizData(List<string>? values) => ArrayOf<string?>(values, static v => v is null ? null : JsonValue.Create(v));

    /// <summary>Wraps values as a JSON array (nested objects and arrays are copied); a <see langword="null"/> list is JSON null.</summary>
    public static implicit operator VizData(List<VizData>? values) => ArrayOf<VizData?>(values, static v => v?.Node?.DeepClone());

    /// <summary>Reads a number as an integer.</summary>
    public static explicit operator int(VizData value) => Require(value).GetInt32();

    /// <summary>Reads a number as an integer.</summary>
    public static explicit operator long(VizData value) => Require(value).GetInt64();

    /// <summary>Reads a number.</summary>
    public static explicit operator double(VizData value) => Require(value).GetDouble();

    /// <summary>Reads a boolean.</summary>
    public static explicit operator bool(VizData value) => Require(value).GetBoolean();

    /// <summary>Reads a string (JSON null gives <see langword="null"/>).</summary>
    public static explicit operator string?(VizData value) => Require(value).IsNull ? null : value.GetString();
#pragma warning restore CA2225

    /// <summary>Structural equality.</summary>
    public static bool operator ==(VizData? left, VizData? right) => left is null ? right is null : left.Equals(right);

    /// <summary>Structural inequality.</summary>
    public static bool operator !=(VizData? left, VizData? right) => !(left == right);

    /// <inheritdoc/>
    public override IEnumerable<string> GetDynamicMemberNames() => Names;

    /// <inheritdoc/>
    /// <remarks>
    /// Strings, booleans and numbers come back as CLR values (<see cref="string"/>, <see cref="bool"/>, and <see cref="int"/>,
    /// <see cref="long"/> or <see cref="double"/> by size), so <c>d.count + 1</c>, <c>d.name.ToUpper()</c> and
    /// <c>if (d.flag)</c> read naturally; objects and arrays come back as <see cref="VizData"/>; JSON null as <see langword="null"/>.
    /// </remarks>
    public override bool TryGetMember(GetMemberBinder binder, out object? result)
    {
        ArgumentNullException.ThrowIfNull(binder);
        if (Node is JsonObject o && o.TryGetPropertyValue(binder.Name, out var child))
        {
            result = ToDynamicValue(child);
            return true;
        }

        if (Node is JsonArray a && binder.Name is "Length" or "Count" or "length")
        {
            result = a.Count;
            return true;
        }

        throw new KeyNotFoundException(Node is JsonObject obj
            ? $"The data has no member '{binder.Name}'. Members: {string.Join(", ", obj.Select(p => p.Key))}."
            : $"The data is {Kind}, not an object, so it has no member '{binder.Name}'.");
    }

    private static object? ToDynamicValue(JsonNode? node)
    {
        var value = new VizData(node);
        switch (value.Kind)
        {
            case VizDataKind.Null:
                return null;
            case VizDataKind.String:
                return value.GetString();
            case VizDataKind.Boolean:
                return value.GetBoolean();
            case VizDataKind.Number when value.TryGetInt64(out var integer):
                return integer is >= int.MinValue and <= int.MaxValue ? (object)(int)integer : integer;
            case VizDataKind.Number:
                return value.GetDouble();
            default:
                return value;
        }
    }

    /// <inheritdoc/>
    public override bool TrySetMember(SetMemberBinder binder, object? value)
    {
        ArgumentNullException.ThrowIfNull(binder);
        Set(binder.Name, value);
        return true;
    }

    /// <inheritdoc/>
    public override bool TryGetIndex(GetIndexBinder binder, object[] indexes, out object? result)
    {
        ArgumentNullException.ThrowIfNull(indexes);
        result = indexes is [string name] ? ToDynamicValue(this[name].Node)
            : indexes is [int index] ? ToDynamicValue(this[index].Node)
            : throw new ArgumentException("Index VizData with one string (object member) or one int (array element).", nameof(indexes));
        return true;
    }

    /// <inheritdoc/>
    public override bool TrySetIndex(SetIndexBinder binder, object[] indexes, object? value)
    {
        ArgumentNullException.ThrowIfNull(indexes);
        switch (indexes)
        {
            case [string name]:
                this[name] = From(value);
                return true;
            case [int index]:
                this[index] = From(value);
                return true;
            default:
                throw new ArgumentException("Index VizData with one string (object member) or one int (array element).", nameof(indexes));
        }
    }

    /// <inheritdoc/>
    public override bool TryConvert(ConvertBinder binder, out object? result)
    {
        ArgumentNullException.ThrowIfNull(binder);
        var target = binder.Type;
        if (target == typeof(object) || target == typeof(VizData))
        {
            result = this;
            return true;
        }

        if (IsNull && (!target.IsValueType || Nullable.GetUnderlyingType(target) is not null))
        {
            result = null;
            return true;
        }

        result = As(target);
        return true;
    }

    /// <inheritdoc/>
    public override bool TryBinaryOperation(BinaryOperationBinder binder, object arg, out object? result)
    {
        ArgumentNullException.ThrowIfNull(binder);
        var other = arg is VizData v ? v : From(arg);
        switch (binder.Operation)
        {
            case ExpressionType.Equal:
                result = NumericOrStructuralEquals(other);
                return true;
            case ExpressionType.NotEqual:
                result = !NumericOrStructuralEquals(other);
                return true;
        }

        if (Kind == VizDataKind.String && binder.Operation == ExpressionType.Add)
        {
            result = GetString() + other.ToString();
            return true;
        }

        if (Kind != VizDataKind.Number || other.Kind != VizDataKind.Number)
        {
            result = null;
            return false;
        }

        var x = GetDouble();
        var y = other.GetDouble();
        var xIsInteger = TryGetInt64(out var xi);
        var bothIntegers = other.TryGetInt64(out var yi) && xIsInteger;
        result = binder.Operation switch
        {
            ExpressionType.LessThan => x < y,
            ExpressionType.LessThanOrEqual => x <= y,
            ExpressionType.GreaterThan => x > y,
            ExpressionType.GreaterThanOrEqual => x >= y,
            ExpressionType.Add => bothIntegers ? xi + yi : x + y,
            ExpressionType.Subtract => bothIntegers ? xi - yi : x - y,
            ExpressionType.Multiply => bothIntegers ? xi * yi : x * y,
            ExpressionType.Divide => x / y,
            ExpressionType.Modulo => bothIntegers && yi != 0 ? xi % yi : x % y,
            _ => null,
        };
        return result is not null;
    }

    /// <inheritdoc/>
    public override bool TryUnaryOperation(UnaryOperationBinder binder, out object? result)
    {
        ArgumentNullException.ThrowIfNull(binder);
        switch (binder.Operation)
        {
            case ExpressionType.IsTrue:
                result = Kind == VizDataKind.Boolean && GetBoolean();
                return true;
            case ExpressionType.IsFalse:
            case ExpressionType.Not:
                result = !(Kind == VizDataKind.Boolean && GetBoolean());
                return true;
            case ExpressionType.Negate when Kind == VizDataKind.Number:
                result = TryGetInt64(out var i) ? -i : -GetDouble();
                return true;
            default:
                result = null;
                return false;
        }
    }

    private bool NumericOrStructuralEquals(VizData other) =>
        Kind == VizDataKind.Number && other.Kind == VizDataKind.Number
            ? GetDouble().Equals(other.GetDouble())
            : Equals(other);

    private bool TryGetInt64(out long value)
    {
        value = 0;
        if (Node is not JsonValue v || v.GetValueKind() != JsonValueKind.Number)
        {
            return false;
        }

        // Received numbers are backed by a JsonElement; values built in C# by the CLR type they came from.
        if (v.TryGetValue(out JsonElement element))
        {
            return element.TryGetInt64(out value);
        }

        if (v.TryGetValue(out long l) || v.TryGetValue(out int i) && (l = i) == i)
        {
            value = l;
            return true;
        }

        var d = GetDouble();
        if (Math.Floor(d) == d && Math.Abs(d) < 9.0e15)
        {
            value = (long)d;
            return true;
        }

        return false;
    }

    private T Convert<T>()
    {
        try
        {
            return As<T>();
        }
        catch (JsonException ex)
        {
            throw new InvalidOperationException($"The data is {Kind} ({Truncate(ToJson())}), which cannot be read as {typeof(T).Name}.", ex);
        }
    }

    private static string Truncate(string s) => s.Length <= 40 ? s : string.Concat(s.AsSpan(0, 40), "…");

    private JsonObject RequireObject(string name) => Node as JsonObject
        ?? throw new InvalidOperationException($"The data is {Kind}, not an object, so it has no member '{name}'.");

    private JsonArray RequireArray() => Node as JsonArray
        ?? throw new InvalidOperationException($"The data is {Kind}, not an array.");

    // C# has no user-defined conversion from an interface (IEnumerable<T>), so arrays and List<T> of each scalar get one
    // each; anything else enumerable goes through From.
    private static VizData ArrayOf<T>(IReadOnlyCollection<T>? values, Func<T, JsonNode?> element)
    {
        if (values is null)
        {
            return Null;
        }

        var array = new JsonArray();
        foreach (var value in values)
        {
            array.Add(element(value));
        }

        return new VizData(array);
    }

    private static VizData Require(VizData value) => value ?? throw new ArgumentNullException(nameof(value));

    // A JsonNode has one parent; values taken from another bag are copied, not moved.
    private static JsonNode? Detach(JsonNode? node) => node?.Parent is null ? node : node.DeepClone();
}

/// <summary>Writes a <see cref="VizData"/> as the JSON it holds and reads any JSON into one.</summary>
internal sealed class VizDataJsonConverter : JsonConverter<VizData>
{
    public override bool HandleNull => true;

    public override VizData Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
        VizData.FromNode(JsonNode.Parse(ref reader));

    public override void Write(Utf8JsonWriter writer, VizData value, JsonSerializerOptions options)
    {
        if (value is null)
        {
            writer.WriteNullValue();
        }
        else
        {
            value.WriteTo(writer, options);
        }
    }
}

/// <summary>Serializer metadata for the values <see cref="VizData"/>'s getters read, made at build time (no reflection).</summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(int))]
[JsonSerializable(typeof(long))]
[JsonSerializable(typeof(double))]
[JsonSerializable(typeof(float))]
[JsonSerializable(typeof(decimal))]
[JsonSerializable(typeof(bool))]
[JsonSerializable(typeof(string))]
[JsonSerializable(typeof(int[]))]
[JsonSerializable(typeof(long[]))]
[JsonSerializable(typeof(double[]))]
[JsonSerializable(typeof(bool[]))]
[JsonSerializable(typeof(string[]))]
internal sealed partial class VizDataValues : JsonSerializerContext
{
}
