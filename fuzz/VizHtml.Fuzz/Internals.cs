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
        private static readonly MethodInfo ReadGeneralMethod = RequireMethod(ReaderType, "ReadGeneral", typeof(ReadOnlyMemory<byte>));
        private static readonly MethodInfo OnePassMethod = RequireMethod(ReaderType, "TryReadOnePass", typeof(ReadOnlyMemory<byte>), ResultType.MakeByRefType());
        private static readonly PropertyInfo IsValid = RequireProperty(ResultType, "IsValid");
        private static readonly PropertyInfo EventName = RequireProperty(ResultType, "EventName");
        private static readonly PropertyInfo Data = RequireProperty(ResultType, "DataNode");
        private static readonly PropertyInfo ErrorCode = RequireProperty(ResultType, "ErrorCode");
        private static readonly PropertyInfo ErrorMessage = RequireProperty(ResultType, "ErrorMessage");
        private static readonly PropertyInfo Seq = RequireProperty(ResultType, "Seq");

        private readonly object _reader;

        public EnvelopeReader(int maxDepth) =>
            _reader = Activator.CreateInstance(ReaderType, BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic, null, [maxDepth], null)!;

        public Envelope Read(ReadOnlyMemory<byte> utf8) => Decode(ReadMethod.Invoke(_reader, BindingFlags.DoNotWrapExceptions, null, [utf8], null)!);

        /// <summary>The reader's general path alone (a JSON tree of the whole message).</summary>
        public Envelope ReadGeneral(ReadOnlyMemory<byte> utf8) => Decode(ReadGeneralMethod.Invoke(_reader, BindingFlags.DoNotWrapExceptions, null, [utf8], null)!);

        /// <summary>The reader's one pass, or null where it leaves the message to the general path.</summary>
        public Envelope? ReadOnePass(ReadOnlyMemory<byte> utf8)
        {
            object?[] arguments = [utf8, null];
            return (bool)OnePassMethod.Invoke(_reader, BindingFlags.DoNotWrapExceptions, null, arguments, null)! ? Decode(arguments[1]!) : null;
        }

        private static Envelope Decode(object result)
        {
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

    /// <summary>What <c>VizHtml.Hosting.Standalone.RequestHead.Parse</c> returned: the request, or the refusal.</summary>
    internal readonly record struct ParsedHead(Head? Head, Refusal? Refusal);

    internal readonly record struct Head(string Method, string Path, string Query, bool IsHttp11, long ContentLength, bool HasContentLength, string? Host);

    internal readonly record struct Refusal(int Status, string Reason);

    /// <summary>Calls <c>VizHtml.Hosting.Standalone.RequestHead.Parse(ReadOnlySpan&lt;byte&gt;, out HttpRefusal)</c>.</summary>
    internal static class RequestHead
    {
        private static readonly Type HeadType = RequireType("VizHtml.Hosting.Standalone.RequestHead");
        private static readonly Type RefusalType = RequireType("VizHtml.Hosting.Standalone.HttpRefusal");
        private static readonly MethodInfo ParseMethod = HeadType.GetMethod("Parse", BindingFlags.Static | BindingFlags.Public | BindingFlags.NonPublic)
            ?? throw new InvalidOperationException("RequestHead has no Parse; the harness is out of date.");
        private static readonly PropertyInfo MethodProperty = RequireProperty(HeadType, "Method");
        private static readonly PropertyInfo PathProperty = RequireProperty(HeadType, "Path");
        private static readonly PropertyInfo QueryProperty = RequireProperty(HeadType, "QueryString");
        private static readonly PropertyInfo IsHttp11Property = RequireProperty(HeadType, "IsHttp11");
        private static readonly PropertyInfo ContentLengthProperty = RequireProperty(HeadType, "ContentLength");
        private static readonly PropertyInfo HasContentLengthProperty = RequireProperty(HeadType, "HasContentLength");
        private static readonly MethodInfo HeaderMethod = RequireMethod(HeadType, "Header", typeof(string));
        private static readonly PropertyInfo StatusProperty = RequireProperty(RefusalType, "StatusCode");
        private static readonly PropertyInfo ReasonProperty = RequireProperty(RefusalType, "Reason");

        public static readonly int MaxHeadBytes = (int)HeadType.GetField("MaxHeadBytes")!.GetRawConstantValue()!;

        // Parse takes a span, which reflection cannot pass: a small dynamic method makes the call.
        private static readonly Func<byte[], (object? Head, object Refusal)> Invoke = BuildInvoke();

        public static ParsedHead Parse(byte[] bytes)
        {
            var (head, refusal) = Invoke(bytes);
            if (head is null)
            {
                return new ParsedHead(null, new Refusal((int)StatusProperty.GetValue(refusal)!, (string)ReasonProperty.GetValue(refusal)!));
            }

            return new ParsedHead(
                new Head(
                    (string)MethodProperty.GetValue(head)!,
                    (string)PathProperty.GetValue(head)!,
                    (string)QueryProperty.GetValue(head)!,
                    (bool)IsHttp11Property.GetValue(head)!,
                    (long)ContentLengthProperty.GetValue(head)!,
                    (bool)HasContentLengthProperty.GetValue(head)!,
                    (string?)HeaderMethod.Invoke(head, BindingFlags.DoNotWrapExceptions, null, ["Host"], null)),
                null);
        }

        private static Func<byte[], (object? Head, object Refusal)> BuildInvoke()
        {
            // Expression trees cannot hold a ReadOnlySpan either; a DynamicMethod can.
            var method = new System.Reflection.Emit.DynamicMethod("ParseHead", typeof(object), [typeof(byte[]), typeof(object[])], typeof(Internals).Module, skipVisibility: true);
            var il = method.GetILGenerator();
            var refusal = il.DeclareLocal(RefusalType);
            il.Emit(System.Reflection.Emit.OpCodes.Ldarg_0);
            il.Emit(System.Reflection.Emit.OpCodes.Call, typeof(ReadOnlySpan<byte>).GetMethod("op_Implicit", [typeof(byte[])])!);
            il.Emit(System.Reflection.Emit.OpCodes.Ldloca_S, refusal);
            il.Emit(System.Reflection.Emit.OpCodes.Call, ParseMethod);
            il.Emit(System.Reflection.Emit.OpCodes.Ldarg_1);
            il.Emit(System.Reflection.Emit.OpCodes.Ldc_I4_0);
            il.Emit(System.Reflection.Emit.OpCodes.Ldloc, refusal);
            il.Emit(System.Reflection.Emit.OpCodes.Box, RefusalType);
            il.Emit(System.Reflection.Emit.OpCodes.Stelem_Ref);
            il.Emit(System.Reflection.Emit.OpCodes.Ret);
            var call = (Func<byte[], object[], object?>)method.CreateDelegate(typeof(Func<byte[], object[], object?>));
            return bytes =>
            {
                var slot = new object[1];
                var head = call(bytes, slot);
                return (head, slot[0]);
            };
        }
    }

    /// <summary>A form the multipart reader returned: field names and values, and each file's field and file name.</summary>
    internal sealed record Form(IReadOnlyList<(string Name, IReadOnlyList<string> Values)> Fields, IReadOnlyList<(string? Field, string? FileName)> Files);

    /// <summary>Calls <c>MultipartFormReader.ReadAsync</c> on a MemoryStream, with one spool folder for the whole run.</summary>
    internal static class MultipartReader
    {
        private static readonly Type ReaderType = RequireType("VizHtml.Hosting.Standalone.MultipartFormReader");
        private static readonly Type FolderType = RequireType("VizHtml.Http.FormSpoolFolder");
        private static readonly Type SpoolType = RequireType("VizHtml.Http.FormSpool");
        private static readonly MethodInfo ReadMethod = ReaderType.GetMethod("ReadAsync", BindingFlags.Static | BindingFlags.Public | BindingFlags.NonPublic)
            ?? throw new InvalidOperationException("MultipartFormReader has no ReadAsync; the harness is out of date.");
        private static readonly object Spool = RequireMethod(FolderType, "CreateSpool").Invoke(Activator.CreateInstance(FolderType, nonPublic: true), null)!;

        public static Form Read(byte[] body, string boundary, long maxBytes)
        {
            var task = (Task)ReadMethod.Invoke(null, BindingFlags.DoNotWrapExceptions, null, [new MemoryStream(body), boundary, maxBytes, Spool, CancellationToken.None], null)!;
            if (Task.WhenAny(task, Task.Delay(TimeSpan.FromSeconds(10))).GetAwaiter().GetResult() != task)
            {
                throw new TimeoutException("MultipartFormReader.ReadAsync did not finish on an in-memory body.");
            }

            // Unwrapped: the reader's own exception reaches the target.
            task.GetAwaiter().GetResult();
            var content = task.GetType().GetProperty("Result")!.GetValue(task)!;
            var fields = (IReadOnlyDictionary<string, IReadOnlyList<string>>)content.GetType().GetProperty("Fields")!.GetValue(content)!;
            var files = (System.Collections.IEnumerable)content.GetType().GetProperty("Files")!.GetValue(content)!;
            return new Form(
                [.. fields.Select(f => (f.Key, f.Value))],
                [.. files.Cast<VizFormFile>().Select(f => ((string?)f.FieldName, (string?)f.FileName))]);
        }
    }
}
