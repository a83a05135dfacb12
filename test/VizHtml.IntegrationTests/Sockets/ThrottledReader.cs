using System.Buffers.Binary;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json.Nodes;

namespace VizHtml.IntegrationTests.Sockets;

/// <summary>
/// A protocol version 2 client that reads no faster than a set rate, as a tablet on a poor Wi-Fi link does: it takes at
/// most <c>bytesPerSecond</c> off its socket, answers pings when it reads them (as a browser does, behind whatever the
/// server sent before), and acknowledges numbered events as <c>vizhtml.js</c> does. Everything it reads is recorded.
/// </summary>
internal sealed class ThrottledReader : IDisposable
{
    private readonly RawTcp _tcp;
    private readonly Socket _socket;
    private readonly int _bytesPerSecond;
    private readonly List<byte> _pending = [];
    private readonly List<byte> _message = [];
    private readonly Lock _gate = new();
    private readonly List<JsonObject> _events = [];
    private long _lastSeq;
    private long _lastAcked;
    private long _ackedAt = Environment.TickCount64;

    private ThrottledReader(RawTcp tcp, int bytesPerSecond)
    {
        _tcp = tcp;
        _socket = tcp.Socket;
        _bytesPerSecond = bytesPerSecond;
    }

    /// <summary>The close code the server sent, once it did.</summary>
    public int? CloseCode { get; private set; }

    public string? CloseReason { get; private set; }

    /// <summary>Whether the TCP connection ended (with or without a close frame).</summary>
    public bool Ended { get; private set; }

    public long BytesRead { get; private set; }

    public int PingsAnswered { get; private set; }

    /// <summary>When set, acknowledges at least this often while it reads, numbered events or not (as vizhtml.js does).</summary>
    public TimeSpan? AckWhileReadingEvery { get; init; }

    /// <summary>The application events read so far (envelopes), in order.</summary>
    public IReadOnlyList<JsonObject> Events
    {
        get
        {
            lock (_gate)
            {
                return [.. _events];
            }
        }
    }

    public static async Task<ThrottledReader> ConnectAsync(int port, int bytesPerSecond, int? receiveBufferBytes = null, TimeSpan? ackWhileReadingEvery = null)
    {
        var tcp = await RawTcp.UpgradeAsync(port, receiveBufferBytes, query: "?v=2");
        var reader = new ThrottledReader(tcp, bytesPerSecond) { AckWhileReadingEvery = ackWhileReadingEvery };
        await reader.SendAsync(0x1, Encoding.UTF8.GetBytes("""{"event":"$hello","data":{"v":2,"lastSeq":0}}"""));
        return reader;
    }

    /// <summary>Reads at the set rate until <paramref name="cancellationToken"/> fires or the connection ends.</summary>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        var buffer = new byte[4096];
        try
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                // Never ahead of the rate: wait until the bytes read so far are due, then take at most one buffer.
                var due = TimeSpan.FromSeconds(BytesRead / (double)_bytesPerSecond);
                if (due > clock.Elapsed)
                {
                    await Task.Delay(due - clock.Elapsed, cancellationToken);
                }

                var read = await _socket.ReceiveAsync(buffer.AsMemory(0, Math.Min(buffer.Length, Math.Max(1, _bytesPerSecond / 20))), cancellationToken);
                if (read == 0)
                {
                    Ended = true;
                    return;
                }

                BytesRead += read;
                _pending.AddRange(buffer.AsSpan(0, read));
                if (!await ParseAsync())
                {
                    return;
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
        catch (SocketException)
        {
            Ended = true;
        }
    }

    /// <summary>Handles every complete frame received; false once the server closed.</summary>
    private async Task<bool> ParseAsync()
    {
        while (TryTakeFrame(out var opcode, out var fin, out var payload))
        {
            switch (opcode)
            {
                case 0x9:
                    await SendAsync(0xA, payload);
                    PingsAnswered++;
                    break;
                case 0x8:
                    CloseCode = payload.Length >= 2 ? BinaryPrimitives.ReadUInt16BigEndian(payload) : 1005;
                    CloseReason = payload.Length > 2 ? Encoding.UTF8.GetString(payload, 2, payload.Length - 2) : null;
                    Ended = true;
                    return false;
                case 0x0 or 0x1:
                    _message.AddRange(payload);
                    if (fin)
                    {
                        await OnTextAsync(Encoding.UTF8.GetString([.. _message]));
                        _message.Clear();
                    }

                    break;
            }
        }

        return true;
    }

    private async Task OnTextAsync(string text)
    {
        // A batched frame carries several envelopes, one per line.
        foreach (var line in text.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            var envelope = JsonNode.Parse(line)!.AsObject();
            if (envelope["seq"] is { } seq)
            {
                _lastSeq = seq.GetValue<long>();
            }

            if (!envelope["event"]!.GetValue<string>().StartsWith('$'))
            {
                lock (_gate)
                {
                    _events.Add(envelope);
                }
            }
        }

        var reading = AckWhileReadingEvery is { } every && Environment.TickCount64 - _ackedAt > every.TotalMilliseconds;
        if (_lastSeq - _lastAcked >= 16 || reading)
        {
            _lastAcked = _lastSeq;
            _ackedAt = Environment.TickCount64;
            await SendAsync(0x1, Encoding.UTF8.GetBytes("{\"event\":\"$ack\",\"data\":{\"seq\":" + _lastSeq + "}}"));
        }
    }

    private bool TryTakeFrame(out byte opcode, out bool fin, out byte[] payload)
    {
        opcode = 0;
        fin = false;
        payload = [];
        if (_pending.Count < 2)
        {
            return false;
        }

        long length = _pending[1] & 0x7F;
        var header = 2;
        if (length == 126)
        {
            if (_pending.Count < 4)
            {
                return false;
            }

            length = (_pending[2] << 8) | _pending[3];
            header = 4;
        }
        else if (length == 127)
        {
            if (_pending.Count < 10)
            {
                return false;
            }

            length = BinaryPrimitives.ReadInt64BigEndian(_pending.GetRange(2, 8).ToArray());
            header = 10;
        }

        if (_pending.Count < header + length)
        {
            return false;
        }

        opcode = (byte)(_pending[0] & 0x0F);
        fin = (_pending[0] & 0x80) != 0;
        payload = _pending.GetRange(header, (int)length).ToArray();
        _pending.RemoveRange(0, header + (int)length);
        return true;
    }

    private Task SendAsync(byte opcode, byte[] payload) => _tcp.SendFrameAsync(opcode, payload);

    public void Dispose() => _tcp.Dispose();
}
