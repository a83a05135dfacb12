namespace VizHtml.Fuzz;

/// <summary>
/// Target <c>replay</c>: the resume state machine <c>ReplayBuffer</c>, driven by a byte-coded list of operations and
/// checked after every operation against <see cref="ReplayModel"/>, a plain reference model.
/// </summary>
/// <remarks>
/// Encoding. Three header bytes set the bounds: maxCount = 1 + b0 % 32, maxBytes = 1 + 4·b1, maxAge = b2 ms. Then
/// each operation is one opcode byte (taken modulo 8) and, for some, one argument byte:
/// 0, 1 Append(++lastSent, payload of arg % 128 bytes) · 7 Append with a payload of 8·arg bytes ·
/// 2 Acknowledge(seq(arg)) clamped to lastSent, as the server's only caller clamps it · 3 Expire ·
/// 4 advance the clock by arg ms · 5 CanReplayFrom(seq(arg), lastSent) · 6 After(seq(arg)).
/// seq(arg): arg &lt; 128 gives arg; 255 gives lastSent + 1; otherwise lastSent - (arg - 128). Never negative: the
/// server reads lastSeq and ack numbers with ReadLong, which refuses negative numbers.
/// Missing bytes read as 0.
/// Invariants (FuzzRegressionTests checks the same ones against the same model, ReplayModel.cs), after every operation:
/// Count ≤ maxCount and Bytes ≤ maxBytes; Count, Bytes, Acknowledged and LostThrough equal the model's;
/// After(x) is strictly increasing, holds only seq &gt; x, and is exactly the model's kept entries after x with
/// their own payloads; CanReplayFrom(x, lastSent) is true iff x ≤ lastSent and every seq in (x, lastSent] is still
/// kept (docs/protocol.md: a recovered resume replays every reliable event after lastSeq; an acknowledged seq is
/// covered only when x ≥ it).
/// </remarks>
internal static class ReplayTarget
{
    public static void Run(ReadOnlySpan<byte> input)
    {
        var position = 0;
        byte Next(ReadOnlySpan<byte> bytes) => position < bytes.Length ? bytes[position++] : (byte)0;

        var maxCount = 1 + (Next(input) % 32);
        var maxBytes = 1 + (4L * Next(input));
        var maxAge = TimeSpan.FromMilliseconds(Next(input));
        var clock = new ManualTimeProvider();
        var buffer = new Internals.ReplayBuffer(maxCount, maxBytes, maxAge, clock);
        var model = new ReplayModel(maxCount, maxBytes, maxAge.Ticks);
        long lastSent = 0;
        var step = 0;

        while (position < input.Length)
        {
            step++;
            var op = Next(input) % 8;
            string what;
            switch (op)
            {
                case 0 or 1 or 7:
                {
                    var size = op == 7 ? 8 * Next(input) : Next(input) % 128;
                    var seq = ++lastSent;
                    var payload = ReplayModel.PayloadFor(seq, size);
                    buffer.Append(seq, payload);
                    model.Append(seq, size, clock.GetTimestamp());
                    what = $"Append({seq}, {size} bytes)";
                    break;
                }

                case 2:
                {
                    var seq = Math.Min(SeqArgument(Next(input), lastSent), lastSent);
                    buffer.Acknowledge(seq);
                    model.Acknowledge(seq);
                    what = $"Acknowledge({seq})";
                    break;
                }

                case 3:
                    buffer.Expire();
                    model.Expire(clock.GetTimestamp());
                    what = "Expire()";
                    break;

                case 4:
                {
                    var ms = Next(input);
                    clock.Advance(TimeSpan.FromMilliseconds(ms));
                    what = $"Advance({ms} ms)";
                    break;
                }

                case 5:
                {
                    var x = SeqArgument(Next(input), lastSent);
                    var actual = buffer.CanReplayFrom(x, lastSent);
                    var expected = model.CanReplayFrom(x, lastSent, clock.GetTimestamp());
                    what = $"CanReplayFrom({x}, {lastSent})";

                    // A resume from below what the client itself acknowledged comes only from a client that does not
                    // follow the protocol (vizhtml.js never sends one); its own name keeps it apart in triage.
                    var invariant = x < model.Acknowledged ? "replay.can-replay-below-ack" : "replay.can-replay";
                    InvariantException.Check(actual == expected, invariant,
                        $"step {step} {what} returned {actual}, model says {expected}; {model.Describe()}");
                    break;
                }

                default:
                {
                    var x = SeqArgument(Next(input), lastSent);
                    what = $"After({x})";
                    CheckAfter(buffer.After(x).ToList(), x, model, $"step {step} {what}");
                    break;
                }
            }

            CheckState(buffer, model, maxCount, maxBytes, $"step {step} {what}");
        }
    }

    internal static long SeqArgument(byte arg, long lastSent) => arg switch
    {
        < 128 => arg,
        255 => lastSent + 1,
        _ => Math.Max(lastSent - (arg - 128), 0),
    };

    internal static void CheckState(Internals.ReplayBuffer buffer, ReplayModel model, int maxCount, long maxBytes, string context)
    {
        InvariantException.Check(buffer.Count <= maxCount, "replay.count-bound", $"{context}: Count {buffer.Count} > {maxCount}");
        InvariantException.Check(buffer.Bytes <= maxBytes && buffer.Bytes >= 0, "replay.bytes-bound", $"{context}: Bytes {buffer.Bytes} outside 0..{maxBytes}");
        InvariantException.Check(buffer.Count == model.Count && buffer.Bytes == model.Bytes, "replay.contents",
            $"{context}: buffer holds {buffer.Count} entries / {buffer.Bytes} bytes; {model.Describe()}");
        InvariantException.Check(buffer.Acknowledged == model.Acknowledged, "replay.acknowledged",
            $"{context}: Acknowledged {buffer.Acknowledged}; {model.Describe()}");
        InvariantException.Check(buffer.LostThrough == model.LostThrough, "replay.lost-through",
            $"{context}: LostThrough {buffer.LostThrough}; {model.Describe()}");
    }

    internal static void CheckAfter(List<(long Seq, ReadOnlyMemory<byte> Payload)> after, long x, ReplayModel model, string context)
    {
        var previous = long.MinValue;
        foreach (var (seq, payload) in after)
        {
            InvariantException.Check(seq > x, "replay.after-range", $"{context} returned seq {seq} ≤ {x}");
            InvariantException.Check(seq > previous, "replay.after-order", $"{context} returned {seq} after {previous}");
            InvariantException.Check(payload.Span.SequenceEqual(ReplayModel.PayloadFor(seq, payload.Length)), "replay.after-payload",
                $"{context} returned another event's payload for seq {seq}");
            previous = seq;
        }

        var expected = model.After(x);
        InvariantException.Check(after.Select(e => (e.Seq, e.Payload.Length)).SequenceEqual(expected), "replay.after-contents",
            $"{context} returned [{string.Join(",", after.Select(e => e.Seq))}], model keeps [{string.Join(",", expected.Select(e => e.Seq))}]");
    }
}
