using System.Reflection;
using System.Text.Json.Nodes;

namespace VizHtml.Fuzz;

/// <summary>
/// The one place that reaches VizHtml's internal types. VizHtml grants InternalsVisibleTo only to its two test
/// assemblies, so the harness binds to <c>EnvelopeReader</c> and <c>ReplayBuffer</c> by reflection, once, and then
/// calls them through closed delegates (or <see cref="BindingFlags.DoNotWrapExceptions"/> invocations) so that an
/// exception thrown by the target reaches the fuzzer unwrapped, with its own type and stack.
/// </summary>
internal static class Internals
{
    private static readonly Assembly VizHtmlAssembly = typeof(VizData).Assembly;

    private static Type RequireType(string name) =>
        VizHtmlAssembly.GetType(name, throwOnError: false)
        ?? throw new InvalidOperationException($"VizHtml has no type {name}; the harness is out of date.");

    private static MethodInfo RequireMethod(Type type, string name, params Type[] parameters) =>
        type.GetMethod(name, BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic, parameters)
        ?? throw new InvalidOperationException($"{type.Name} has no method {name}; the harness is out of date.");

    private static PropertyInfo RequireProperty(Type type, string name) =>
        type.GetProperty(name, BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic)
        ?? throw new InvalidOperationException($"{type.Name} has no property {name}; the harness is out of date.");

    /// <summary>The decoded form of <c>VizHtml.Protocol.InboundEnvelope</c>.</summary>
    internal readonly record struct Envelope(bool IsValid, string? EventName, JsonNode? Data, string? ErrorCode, string? ErrorMessage, long Seq);

    /// <summary>Wraps one <c>VizHtml.Protocol.EnvelopeReader</c>.</summary>
    internal sealed class EnvelopeReader
    {
        private static readonly Type ReaderType = RequireType("VizHtml.Protocol.EnvelopeReader");
        private static readonly Type ResultType = RequireType("VizHtml.Protocol.InboundEnvelope");
        private static readonly MethodInfo ReadMethod = RequireMethod(ReaderType, "Read", typeof(ReadOnlyMemory<byte>));
        private static readonly PropertyInfo IsValid = RequireProperty(ResultType, "IsValid");
        private static readonly PropertyInfo EventName = RequireProperty(ResultType, "EventName");
        private static readonly PropertyInfo Data = RequireProperty(ResultType, "Data");
        private static readonly PropertyInfo ErrorCode = RequireProperty(ResultType, "ErrorCode");
        private static readonly PropertyInfo ErrorMessage = RequireProperty(ResultType, "ErrorMessage");
        private static readonly PropertyInfo Seq = RequireProperty(ResultType, "Seq");

        private readonly object _reader;

        public EnvelopeReader(int maxDepth) =>
            _reader = Activator.CreateInstance(ReaderType, BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic, null, [maxDepth], null)!;

        public Envelope Read(ReadOnlyMemory<byte> utf8)
        {
            var result = ReadMethod.Invoke(_reader, BindingFlags.DoNotWrapExceptions, null, [utf8], null)!;
            return new Envelope(
                (bool)IsValid.GetValue(result)!,
                (string?)EventName.GetValue(result),
                (JsonNode?)Data.GetValue(result),
                (string?)ErrorCode.GetValue(result),
                (string?)ErrorMessage.GetValue(result),
                (long)Seq.GetValue(result)!);
        }
    }

    /// <summary>Wraps one <c>VizHtml.Sessions.ReplayBuffer</c>.</summary>
    internal sealed class ReplayBuffer
    {
        private static readonly Type BufferType = RequireType("VizHtml.Sessions.ReplayBuffer");

        private readonly Action<long, ReadOnlyMemory<byte>> _append;
        private readonly Action<long> _acknowledge;
        private readonly Action _expire;
        private readonly Func<long, long, bool> _canReplayFrom;
        private readonly Func<long, IEnumerable<(long Seq, ReadOnlyMemory<byte> Payload)>> _after;
        private readonly Func<int> _count;
        private readonly Func<long> _bytes;
        private readonly Func<long> _lostThrough;
        private readonly Func<long> _acknowledged;

        public ReplayBuffer(int maxCount, long maxBytes, TimeSpan maxAge, TimeProvider time)
        {
            var buffer = Activator.CreateInstance(BufferType, BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic, null, [maxCount, maxBytes, maxAge, time], null)!;
            _append = RequireMethod(BufferType, "Append", typeof(long), typeof(ReadOnlyMemory<byte>)).CreateDelegate<Action<long, ReadOnlyMemory<byte>>>(buffer);
            _acknowledge = RequireMethod(BufferType, "Acknowledge", typeof(long)).CreateDelegate<Action<long>>(buffer);
            _expire = RequireMethod(BufferType, "Expire").CreateDelegate<Action>(buffer);
            _canReplayFrom = RequireMethod(BufferType, "CanReplayFrom", typeof(long), typeof(long)).CreateDelegate<Func<long, long, bool>>(buffer);
            _after = RequireMethod(BufferType, "After", typeof(long)).CreateDelegate<Func<long, IEnumerable<(long, ReadOnlyMemory<byte>)>>>(buffer);
            _count = RequireProperty(BufferType, "Count").GetMethod!.CreateDelegate<Func<int>>(buffer);
            _bytes = RequireProperty(BufferType, "Bytes").GetMethod!.CreateDelegate<Func<long>>(buffer);
            _lostThrough = RequireProperty(BufferType, "LostThrough").GetMethod!.CreateDelegate<Func<long>>(buffer);
            _acknowledged = RequireProperty(BufferType, "Acknowledged").GetMethod!.CreateDelegate<Func<long>>(buffer);
        }

        public int Count => _count();

        public long Bytes => _bytes();

        public long LostThrough => _lostThrough();

        public long Acknowledged => _acknowledged();

        public void Append(long seq, ReadOnlyMemory<byte> payload) => _append(seq, payload);

        public void Acknowledge(long seq) => _acknowledge(seq);

        public void Expire() => _expire();

        public bool CanReplayFrom(long lastSeq, long lastSent) => _canReplayFrom(lastSeq, lastSent);

        public IEnumerable<(long Seq, ReadOnlyMemory<byte> Payload)> After(long lastSeq) => _after(lastSeq);
    }
}
