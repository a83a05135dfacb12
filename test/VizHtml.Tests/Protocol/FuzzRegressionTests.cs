using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Unicode;
using VizHtml.Connections;
using VizHtml.Sessions;
using VizHtml.Fuzz;
using VizHtml.Protocol;

namespace VizHtml.Tests.Protocol;

/// <summary>
/// Replays what the fuzzer (fuzz/, see fuzz/README.md) found, plus hand-written nasty inputs, through the same
/// invariants the fuzz harness checks. Every input in FuzzCorpus/&lt;target&gt;/ once broke an invariant
/// (see fuzz/README.md, "Findings") and must keep passing.
/// </summary>
public sealed class FuzzRegressionTests
{
    private const string NoInputs = "(no inputs)";

    public static TheoryData<string> EnvelopeCorpus => Corpus("envelope");

    public static TheoryData<string> VizDataCorpus => Corpus("vizdata");

    public static TheoryData<string> ReplayCorpus => Corpus("replay");

    [Theory]
    [MemberData(nameof(EnvelopeCorpus))]
    public void EnvelopeCorpusInputsKeepTheInvariants(string file) => Replay(file, input => FuzzInvariants.Envelope(input));

    [Theory]
    [MemberData(nameof(VizDataCorpus))]
    public void VizDataCorpusInputsKeepTheInvariants(string file) => Replay(file, FuzzInvariants.VizData);

    [Theory]
    [MemberData(nameof(ReplayCorpus))]
    public void ReplayCorpusInputsKeepTheInvariants(string file) => Replay(file, FuzzInvariants.ReplayBuffer);

    [Theory]
    [InlineData("{\"event\":\"$hello\"}", null)]
    [InlineData("{\"event\":\"$ack\",\"data\":{\"seq\":1}}", null)]
    [InlineData("{\"event\":\"$reply\",\"data\":{\"req\":1,\"value\":2},\"seq\":3}", null)]
    [InlineData("{\"event\":\"$welcome\"}", ProtocolErrors.InvalidEventName)]
    [InlineData("{\"event\":\"a\",\"seq\":-1}", ProtocolErrors.InvalidEnvelope)]
    [InlineData("{\"event\":\"a\",\"seq\":0}", ProtocolErrors.InvalidEnvelope)]
    [InlineData("{\"event\":\"a\",\"seq\":1e3}", ProtocolErrors.InvalidEnvelope)]
    [InlineData("{\"event\":\"a\",\"seq\":1.0}", ProtocolErrors.InvalidEnvelope)]
    [InlineData("{\"event\":\"a\",\"seq\":99999999999999999999}", ProtocolErrors.InvalidEnvelope)]
    [InlineData("{\"event\":\"a\",\"seq\":9223372036854775807}", null)]
    [InlineData("{\"event\":\"a\",\"seq\":\"1\"}", ProtocolErrors.InvalidEnvelope)]
    [InlineData("\uFEFF{\"event\":\"a\"}", ProtocolErrors.InvalidJson)]
    [InlineData("{\"event\":\"a\"} x", ProtocolErrors.InvalidJson)]
    [InlineData("{\"event\":\"a\"}{\"event\":\"b\"}", ProtocolErrors.InvalidJson)]
    [InlineData("{\"event\":\"a\",\"event\":\"b\"}", ProtocolErrors.InvalidJson)]
    [InlineData("{\"event\":\"a\",\"\\u0065vent\":\"b\"}", ProtocolErrors.InvalidJson)]
    [InlineData("{\"event\":\"a\",\"data\":{\"k\":1,\"k\":2}}", ProtocolErrors.InvalidJson)]
    [InlineData("{\"event\":\"a\",\"data\":[{\"k\":1},{\"k\":2,\"k\":3}]}", ProtocolErrors.InvalidJson)]
    [InlineData("{\"event\":\"caf\\u00e9 \\ud83d\\ude00\",\"data\":\"\\ud83d\\ude00\"}", null)]
    [InlineData("{\"event\":\"a\\u007f\"}", ProtocolErrors.InvalidEventName)]
    [InlineData("{\"event\":\"\\u0085\"}", ProtocolErrors.InvalidEventName)]
    [InlineData("{\"event\":\"a\",\"data\":1e400}", null)]
    [InlineData("{\"event\":\"a\",\"data\":-0}", null)]
    [InlineData("{\"event\":\"a\",\"data\":1e2147483647}", ProtocolErrors.InvalidJson)]
    [InlineData("{\"event\":\"a\",\"data\":1e9999}", null)]
    public void NastyEnvelopesGetTheDocumentedOutcome(string text, string? expectedError)
    {
        var envelope = FuzzInvariants.Envelope(Encoding.UTF8.GetBytes(text));
        Assert.Equal(expectedError, envelope.ErrorCode);
    }

    /// <summary>
    /// Seeded random envelopes, well-formed and broken (duplicate and escaped names, nesting, every kind of value, cut or
    /// altered bytes), through the invariants, which include that the one-pass reader agrees with the general path.
    /// </summary>
    [Fact]
    public void GeneratedEnvelopesKeepTheInvariantsAndBothReadersAgree()
    {
        var random = new Random(15);
        var onePass = 0;
        for (var i = 0; i < 20_000; i++)
        {
            var text = GeneratedEnvelope(random);
            var bytes = Encoding.UTF8.GetBytes(text);
            switch (random.Next(6))
            {
                case 0:
                    bytes = bytes[..random.Next(bytes.Length + 1)];
                    break;
                case 1 when bytes.Length > 0:
                    bytes[random.Next(bytes.Length)] = (byte)Mutations[random.Next(Mutations.Length)];
                    break;
            }

            FuzzInvariants.Envelope(bytes);
            onePass += new EnvelopeReader(64).TryReadOnePass(bytes, out _) ? 1 : 0;
        }

        // Most generated messages are decided by the one pass, so the comparison above is not vacuous.
        Assert.InRange(onePass, 8_000, 20_000);
    }

    private const string Mutations = "{}[]\":,\\ 0e-.tfnu";

    private static string GeneratedEnvelope(Random random)
    {
        var members = new List<string>();
        if (random.Next(10) > 0)
        {
            members.Add("\"event\":" + (random.Next(8) switch { 0 => "1", 1 => "\"$hello\"", 2 => "\"bad name\"", 3 => "\"\"", _ => "\"move\"" }));
        }

        if (random.Next(3) == 0)
        {
            members.Add("\"seq\":" + (random.Next(5) switch { 0 => "0", 1 => "1.5", 2 => "\"3\"", _ => random.Next(1, 1000).ToString(System.Globalization.CultureInfo.InvariantCulture) }));
        }

        if (random.Next(4) == 0)
        {
            members.Add("\"req\":" + (random.Next(3) == 0 ? "null" : "7"));
        }

        if (random.Next(5) > 0)
        {
            members.Add("\"data\":" + GeneratedValue(random, 0));
        }

        if (random.Next(4) == 0)
        {
            members.Add(GeneratedName(random) + ":" + GeneratedValue(random, 0));
        }

        members = [.. members.OrderBy(_ => random.Next())];
        return "{" + string.Join(random.Next(8) == 0 ? " , " : ",", members) + "}";
    }

    private static string GeneratedValue(Random random, int depth) => (depth > 4 ? random.Next(5) : random.Next(8)) switch
    {
        0 => "null",
        1 => random.Next(2) == 0 ? "true" : "false",
        2 => random.Next(4) switch { 0 => "-0", 1 => "1.5e3", 2 => "1e99999", _ => random.Next().ToString(System.Globalization.CultureInfo.InvariantCulture) },
        3 => random.Next(5) switch { 0 => "\"caf\\u00e9\"", 1 => "\"a\\\"b\"", 2 => "\"\\ud83d\\ude00\"", 3 => "\"\\ud800\"", _ => "\"x y\"" },
        4 => "\"é 😀\"",
        5 or 6 => "{" + string.Join(",", Enumerable.Range(0, random.Next(random.Next(12) == 0 ? 40 : 5)).Select(_ => GeneratedName(random) + ":" + GeneratedValue(random, depth + 1))) + "}",
        _ => "[" + string.Join(",", Enumerable.Range(0, random.Next(5)).Select(_ => GeneratedValue(random, depth + 1))) + "]",
    };

    private static string GeneratedName(Random random) => random.Next(12) switch
    {
        0 => "\"\\u0061\"",
        1 => "\"event\"",
        2 => "\"data\"",
        3 => "\"\"",
        _ => "\"" + (char)('a' + random.Next(random.Next(2) == 0 ? 3 : 26)) + "\"",
    };

    [Fact]
    public void DeepNestingIsRefusedNotOverflowed()
    {
        const int depth = 100_000;
        var deep = "{\"event\":\"a\",\"data\":" + new string('[', depth) + new string(']', depth) + "}";
        Assert.Equal(ProtocolErrors.InvalidJson, FuzzInvariants.Envelope(Encoding.UTF8.GetBytes(deep)).ErrorCode);
        FuzzInvariants.VizData(Encoding.UTF8.GetBytes(new string('[', depth) + new string(']', depth)));
        FuzzInvariants.VizData(Encoding.UTF8.GetBytes(string.Concat(Enumerable.Repeat("{\"a\":", depth)) + "1" + new string('}', depth)));
    }

    [Fact]
    public void HugeNumbersRoundTrip()
    {
        var digits = new string('9', 100_000);
        var envelope = FuzzInvariants.Envelope(Encoding.UTF8.GetBytes($"{{\"event\":\"a\",\"data\":[{digits},-{digits}.{digits}e-99,0.{new string('0', 50_000)}1]}}"));
        Assert.True(envelope.IsValid);
        FuzzInvariants.VizData(Encoding.UTF8.GetBytes(digits));
        FuzzInvariants.VizData(Encoding.UTF8.GetBytes($"{digits}\0{digits}"));
    }

    [Theory]
    [InlineData("{\"a\":[1,\"x\",null,true,{}]}")]
    [InlineData("\"\\u00e9\\ud83d\\ude00\"")]
    [InlineData("\uFEFF1")]
    [InlineData("1 2")]
    [InlineData("{\"a\":1,\"a\":2}")]
    [InlineData("\"x\"\0\"y\"")]
    [InlineData("[1,2]\0[1,2]")]
    public void NastyVizDataKeepsTheInvariants(string text) => FuzzInvariants.VizData(Encoding.UTF8.GetBytes(text));

    [Fact]
    public void VizDataToleratesRawLoneSurrogatesInTheText()
    {
        // Not JSON text at all (ill-formed UTF-16); Parse may refuse it with JsonException or ArgumentException.
        FuzzInvariants.VizData([0xFF, 0xFE, .. MemoryMarshal.AsBytes("\"\uD800\"".AsSpan())]);
    }

    [Theory]
    [InlineData("{\"event\":\"\\ud800\"}")]
    [InlineData("{\"event\":\"a\",\"\\udc00\":1}")]
    [InlineData("{\"event\":\"a\",\"data\":{\"\\ud800x\":1}}")]
    [InlineData("{\"event\":\"a\",\"data\":\"\\ud800\"}")]
    [InlineData("{\"event\":\"a\",\"data\":[\"\\udfff\\ud800\"]}")]
    public void LoneSurrogateEscapesInEnvelopes(string text) => FuzzInvariants.Envelope(Encoding.UTF8.GetBytes(text));

    [Theory]
    [InlineData("{\"event\":\"a\",\"data\":1e2147483648}")]
    [InlineData("{\"event\":\"a\",\"data\":[0e-99999999999]}")]
    public void ExponentsBeyondInt32InEnvelopes(string text) => FuzzInvariants.Envelope(Encoding.UTF8.GetBytes(text));

    [Theory]
    [InlineData("\"\\ud800\"")]
    [InlineData("{\"\\udc00\":1}")]
    [InlineData("1e2147483648")]
    [InlineData("1.0\u00001")]
    [InlineData("{\"a\":1,\"b\":2}\u0000{\"b\":2,\"a\":1}")]
    public void VizDataKnownBugs(string text) => FuzzInvariants.VizData(Encoding.UTF8.GetBytes(text));

    [Fact]
    public void ReplayFromBelowTheAcknowledgedSeqIsNotARecovery() =>
        // Append 1, 2, 3; the client acknowledges 2; then it asks to resume from 1: event 2 is gone, so no full recovery.
        FuzzInvariants.ReplayBuffer([4, 64, 100, 0, 10, 0, 20, 0, 30, 2, 2, 5, 1]);

    [Fact]
    public void ReplayBufferHandWrittenSequencesKeepTheInvariants()
    {
        FuzzInvariants.ReplayBuffer([]);
        FuzzInvariants.ReplayBuffer([0, 0, 0, 0, 0, 0, 0, 5, 0, 6, 0]);                    // one slot, one byte: everything drops
        FuzzInvariants.ReplayBuffer([31, 255, 255, 0, 1, 0, 2, 0, 3, 5, 0, 5, 255, 6, 200]); // resume edges
        FuzzInvariants.ReplayBuffer([8, 255, 0, 0, 1, 4, 1, 3, 5, 0, 5, 1, 6, 0]);           // zero max age: expires at once
        FuzzInvariants.ReplayBuffer([2, 2, 9, 7, 1, 0, 3, 2, 255, 5, 2, 0, 4, 5, 2, 6, 1]);  // a drop, then an ack past it
    }

    private static string CorpusRoot => Path.Combine(AppContext.BaseDirectory, "Protocol", "FuzzCorpus");

    private static TheoryData<string> Corpus(string target)
    {
        var folder = Path.Combine(CorpusRoot, target);
        var files = Directory.Exists(folder)
            ? Directory.GetFiles(folder).Select(f => Path.GetRelativePath(CorpusRoot, f).Replace('\\', '/')).Order(StringComparer.Ordinal).ToArray()
            : [];
        return new TheoryData<string>(files.Length > 0 ? files : [NoInputs]);
    }

    private static void Replay(string file, Action<byte[]> check)
    {
        if (file != NoInputs)
        {
            check(File.ReadAllBytes(Path.Combine(CorpusRoot, file)));
        }
    }
}

/// <summary>
/// The invariants of the three fuzz targets, over the real internal types. Kept in step with
/// fuzz/VizHtml.Fuzz/EnvelopeTarget.cs, VizDataTarget.cs and ReplayTarget.cs (the harness reaches the internals by
/// reflection; this file through InternalsVisibleTo), including the byte encoding of replay operations.
/// </summary>
internal static class FuzzInvariants
{
    private const int MaxDepth = 64;
    private static readonly EnvelopeReader Reader = new(MaxDepth);
    private static readonly string[] ErrorCodes = [ProtocolErrors.InvalidJson, ProtocolErrors.InvalidEnvelope, ProtocolErrors.InvalidEventName];

    public static InboundEnvelope Envelope(byte[] input)
    {
        // Text messages are UTF-8 by the time the reader sees them (the WebSocket layer closes with 1007 otherwise).
        if (!Utf8.IsValid(input))
        {
            return default;
        }

        var envelope = Reader.Read(input);

        // Where the one-pass reader decides a message, it decides exactly what the general path (a JSON tree) decides.
        if (Reader.TryReadOnePass(input, out var onePass))
        {
            var general = Reader.ReadGeneral(input);
            Assert.Equal((general.EventName, general.ErrorCode, general.ErrorMessage, general.Seq, general.Req), (onePass.EventName, onePass.ErrorCode, onePass.ErrorMessage, onePass.Seq, onePass.Req));
            Assert.True(JsonNode.DeepEquals(general.DataNode, onePass.DataNode), $"data {onePass.DataNode?.ToJsonString()} against {general.DataNode?.ToJsonString()}");
        }

        if (!envelope.IsValid)
        {
            Assert.Contains(envelope.ErrorCode, ErrorCodes);
            Assert.False(string.IsNullOrEmpty(envelope.ErrorMessage));
            Assert.Null(envelope.EventName);
            Assert.Null(envelope.Data);
            return envelope;
        }

        Assert.NotNull(envelope.EventName);
        Assert.Null(EventNameProblem(envelope.EventName));
        Assert.True(envelope.Seq >= 0, $"negative seq {envelope.Seq}");
        if (envelope.DataNode is { } data)
        {
            Assert.Null(data.Parent);
            RoundTrip(data);
        }

        return envelope;
    }

    public static void VizData(byte[] input)
    {
        var split = Array.IndexOf(input, (byte)0);
        var first = CheckVizData(Decode(split < 0 ? input : input[..split]));
        if (split < 0)
        {
            return;
        }

        var second = CheckVizData(Decode(input[(split + 1)..]));
        if (first is null || second is null)
        {
            return;
        }

        var equal = first.Equals(second);
        Assert.Equal(equal, second.Equals(first));
        Assert.Equal(equal, first == second);
        if (equal)
        {
            Assert.True(first.GetHashCode() == second.GetHashCode(), $"equal values with different hash codes: {first.ToJson()} vs {second.ToJson()}");
        }
    }

    public static void ReplayBuffer(byte[] input)
    {
        var position = 0;
        byte Next() => position < input.Length ? input[position++] : (byte)0;

        var maxCount = 1 + (Next() % 32);
        var maxBytes = 1 + (4L * Next());
        var maxAge = TimeSpan.FromMilliseconds(Next());
        var clock = new ManualTimeProvider();
        var budget = new ReplayBudget(long.MaxValue);
        var buffer = new ReplayBuffer(maxCount, maxBytes, maxAge, clock, budget);
        var model = new ReplayModel(maxCount, maxBytes, maxAge.Ticks);
        long lastSent = 0;
        var step = 0;
        while (position < input.Length)
        {
            step++;
            var op = Next() % 8;
            switch (op)
            {
                case 0 or 1 or 7:
                    var size = op == 7 ? 8 * Next() : Next() % 128;
                    var seq = ++lastSent;
                    buffer.Append(seq, ReplayModel.PayloadFor(seq, size));
                    model.Append(seq, size, clock.GetTimestamp());
                    break;
                case 2:
                    var ack = Math.Min(SeqArgument(Next(), lastSent), lastSent);
                    buffer.Acknowledge(ack);
                    model.Acknowledge(ack);
                    break;
                case 3:
                    buffer.Expire();
                    model.Expire(clock.GetTimestamp());
                    break;
                case 4:
                    clock.Advance(TimeSpan.FromMilliseconds(Next()));
                    break;
                case 5:
                    var from = SeqArgument(Next(), lastSent);
                    var actual = buffer.CanReplayFrom(from, lastSent);
                    var expected = model.CanReplayFrom(from, lastSent, clock.GetTimestamp());
                    Assert.True(actual == expected, $"step {step}: CanReplayFrom({from}, {lastSent}) = {actual}, model says {expected}; {model.Describe()}");
                    break;
                default:
                    var after = SeqArgument(Next(), lastSent);
                    var entries = buffer.After(after).ToList();
                    var previous = long.MinValue;
                    foreach (var (s, payload) in entries)
                    {
                        Assert.True(s > after && s > previous, $"step {step}: After({after}) returned {s} after {previous}");
                        Assert.True(payload.Span.SequenceEqual(ReplayModel.PayloadFor(s, payload.Length)), $"step {step}: wrong payload for {s}");
                        previous = s;
                    }

                    Assert.Equal(model.After(after), entries.Select(e => (e.Seq, e.Payload.Length)).ToList());
                    break;
            }

            Assert.True(buffer.Count <= maxCount && buffer.Bytes <= maxBytes && buffer.Bytes >= 0, $"step {step}: bounds broken ({buffer.Count}, {buffer.Bytes})");
            Assert.True(buffer.Count == model.Count && buffer.Bytes == model.Bytes, $"step {step}: buffer {buffer.Count}/{buffer.Bytes}; {model.Describe()}");
            Assert.Equal(model.Acknowledged, buffer.Acknowledged);
            Assert.Equal(model.LostThrough, buffer.LostThrough);
            Assert.True(budget.Bytes == buffer.Bytes, $"step {step}: the server-wide budget counts {budget.Bytes} bytes, the buffer holds {buffer.Bytes}");
        }

        buffer.Clear();
        Assert.Equal(0, budget.Bytes);
    }

    private static long SeqArgument(byte arg, long lastSent) => arg switch
    {
        < 128 => arg,
        255 => lastSent + 1,
        _ => Math.Max(lastSent - (arg - 128), 0),
    };

    private static void RoundTrip(JsonNode data)
    {
        var json = data.ToJsonString();
        var again = JsonNode.Parse(json, documentOptions: new JsonDocumentOptions { MaxDepth = MaxDepth, AllowDuplicateProperties = false });
        Assert.True(JsonNode.DeepEquals(data, again), $"round trip changed the data: {json}");
        Assert.Equal(json, again?.ToJsonString() ?? "null");
    }

    private static string? EventNameProblem(string name)
    {
        if (name is "$hello" or "$ack" or "$reply")
        {
            return null;
        }

        if (name.Length is 0 or > 256)
        {
            return "length";
        }

        if (name[0] == '$')
        {
            return "reserved";
        }

        return name.Any(char.IsControl) ? "control character" : IsWellFormedUtf16(name) ? null : "lone surrogate";
    }

    private static bool IsWellFormedUtf16(string s)
    {
        for (var i = 0; i < s.Length; i++)
        {
            if (char.IsHighSurrogate(s[i]) && i + 1 < s.Length && char.IsLowSurrogate(s[i + 1]))
            {
                i++;
            }
            else if (char.IsSurrogate(s[i]))
            {
                return false;
            }
        }

        return true;
    }

    private static string Decode(byte[] bytes) =>
        bytes is [0xFF, 0xFE, ..] ? new string(MemoryMarshal.Cast<byte, char>(bytes.AsSpan(2, (bytes.Length - 2) & ~1))) : Encoding.UTF8.GetString(bytes);

    private static VizHtml.VizData? CheckVizData(string text)
    {
        VizHtml.VizData data;
        try
        {
            data = VizHtml.VizData.Parse(text);
        }
        catch (JsonException)
        {
            return null;
        }
        catch (ArgumentException) when (!IsWellFormedUtf16(text))
        {
            return null;
        }

        _ = data.Kind;
        _ = data.Count;
        _ = data.Names.Count();
        _ = data.ToString();
        var json = data.ToJson();
        var again = VizHtml.VizData.Parse(json);
        Assert.True(data.Equals(again) && again.Equals(data), $"Parse(ToJson()) differs: {json}");
        Assert.Equal(json, again.ToJson());
        Assert.Equal(json, JsonSerializer.Serialize(data));
        try
        {
            _ = data.As<object>();
        }
        catch (JsonException)
        {
        }

        return data;
    }
}
