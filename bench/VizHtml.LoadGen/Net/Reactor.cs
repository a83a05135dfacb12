using System.Buffers;
using System.Buffers.Binary;
using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text;
using VizHtml.LoadGen.Protocols;

namespace VizHtml.LoadGen.Net;

/// <summary>What the loop does with each delivery besides counting it.</summary>
internal enum DeliveryMode
{
    /// <summary>Count only; payloads are not looked at (broadcast throughput).</summary>
    Count,

    /// <summary>Parse the 20-digit timestamp the server put first in the payload and record now minus it.</summary>
    OneWayLatency,

    /// <summary>Closed-loop echo: record the round trip and send the next request on the same connection.</summary>
    Echo,
}

/// <summary>
/// A single-threaded epoll loop over many client WebSockets: non-blocking connect, HTTP/1.1 upgrade, a minimal frame
/// parser (text, fragments, ping, close) and masked client frames. One shared receive buffer serves every socket; a
/// connection only rents memory while it holds a partial frame, so idle connections cost a few hundred bytes here.
/// Not thread-safe: everything runs on the thread that calls <see cref="Poll"/>.
/// </summary>
internal sealed unsafe class Reactor : IDisposable
{
    private const int MaxEvents = 1024;
    private const int ReceiveBufferBytes = 256 * 1024;
    private const long TickIntervalNs = 50_000_000;

    private static readonly byte[] HeaderEnd = "\r\n\r\n"u8.ToArray();

    private readonly int _epoll;
    private readonly int _port;
    private readonly byte[] _receive = GC.AllocateArray<byte>(ReceiveBufferBytes, pinned: true);
    private readonly byte[] _frame = GC.AllocateArray<byte>(64 * 1024, pinned: true);
    private readonly byte[] _text = new byte[64 * 1024];
    private readonly Libc.EpollEvent* _events;
    private readonly Stack<int> _freeSlots = new();
    private Connection?[] _slots = new Connection?[1024];
    private int _slotCount;
    private long _lastTickNs;
    private ulong _maskState = (ulong)Random.Shared.NextInt64() | 1;

    public Reactor(int port)
    {
        _port = port;
        _epoll = Libc.EpollCreate1(Libc.EpollCloExec);
        if (_epoll < 0)
        {
            throw new InvalidOperationException($"epoll_create1 failed: errno {Libc.Errno}");
        }

        _events = (Libc.EpollEvent*)NativeMemory.Alloc(MaxEvents, (nuint)sizeof(Libc.EpollEvent));
    }

    /// <summary>Monotonic time in ns taken right after the last receive returned (CLOCK_MONOTONIC on Linux).</summary>
    public long NowNs { get; private set; }

    public DeliveryMode Mode { get; set; } = DeliveryMode.Count;

    /// <summary>Where latencies go (ns) in <see cref="DeliveryMode.OneWayLatency"/> and <see cref="DeliveryMode.Echo"/>.</summary>
    public LatencyRecorder? Latencies { get; set; }

    /// <summary>Echo: send a new request after each answer while this is true.</summary>
    public bool EchoRunning { get; set; }

    public int EchoPayloadBytes { get; set; } = 64;

    public long Delivered { get; private set; }
    public long LastDeliveryNs { get; private set; }
    public int Connecting { get; private set; }
    public int OpenCount { get; private set; }
    public int Failed { get; private set; }
    public int ClosedByServer { get; private set; }
    public string? LastFailure { get; private set; }
    public int Live => _slotCount - _freeSlots.Count;

    /// <summary>Close codes the servers sent, by code, for diagnostics (a 4008 means the server dropped a slow client).</summary>
    public Dictionary<int, int> CloseCodes { get; } = [];

    public static long TimestampNs()
    {
        var ticks = Stopwatch.GetTimestamp();
        return Stopwatch.Frequency == 1_000_000_000 ? ticks : (long)(ticks * (1e9 / Stopwatch.Frequency));
    }

    public IEnumerable<Connection> Connections
    {
        get
        {
            for (var i = 0; i < _slotCount; i++)
            {
                if (_slots[i] is { } connection)
                {
                    yield return connection;
                }
            }
        }
    }

    /// <summary>Starts a connection; it becomes open when the protocol's handshake is done. False when no socket could be made.</summary>
    public bool Connect(ProtocolAdapter adapter)
    {
        var fd = Libc.Socket(Libc.AfInet, Libc.SockStream | Libc.SockNonBlock | Libc.SockCloExec, 0);
        if (fd < 0)
        {
            Failed++;
            LastFailure = $"socket() errno {Libc.Errno}";
            return false;
        }

        var one = 1;
        Libc.SetSockOpt(fd, Libc.IpProtoTcp, Libc.TcpNoDelay, &one, sizeof(int));
        var slot = _freeSlots.Count > 0 ? _freeSlots.Pop() : _slotCount++;
        if (slot >= _slots.Length)
        {
            Array.Resize(ref _slots, _slots.Length * 2);
        }

        var connection = new Connection(slot, fd, adapter);
        _slots[slot] = connection;
        Connecting++;
        var address = new Libc.SockAddrIn
        {
            Family = Libc.AfInet,
            PortNetworkOrder = BinaryPrimitives.ReverseEndianness((ushort)_port),
            AddressNetworkOrder = BinaryPrimitives.ReverseEndianness(0x7F000001u),
        };
        if (Libc.Connect(fd, &address, sizeof(Libc.SockAddrIn)) != 0 && Libc.Errno != Libc.EInProgress)
        {
            Fail(connection, $"connect() errno {Libc.Errno}");
            return false;
        }

        // Writable means connected (or failed: SO_ERROR tells which).
        Control(connection, Libc.EpollCtlAdd, Libc.EpollOut);
        return true;
    }

    /// <summary>Waits for socket events up to <paramref name="timeoutMs"/> and handles them all. Returns the number handled.</summary>
    public int Poll(int timeoutMs)
    {
        var count = Libc.EpollWait(_epoll, _events, MaxEvents, timeoutMs);
        if (count < 0)
        {
            var errno = Libc.Errno;
            return errno == Libc.EIntr ? 0 : throw new InvalidOperationException($"epoll_wait failed: errno {errno}");
        }

        for (var i = 0; i < count; i++)
        {
            var ev = _events[i];
            var slot = (int)(ev.Data & 0xFFFFFFFF);
            var fd = (int)(ev.Data >> 32);
            var connection = slot < _slotCount ? _slots[slot] : null;
            if (connection is null || connection.Fd != fd)
            {
                continue;
            }

            if ((ev.Events & Libc.EpollOut) != 0 || connection.State == ConnectionState.Connecting)
            {
                OnWritable(connection);
            }

            if ((ev.Events & (Libc.EpollIn | Libc.EpollErr | Libc.EpollHup)) != 0 && connection.State is not (ConnectionState.Closed or ConnectionState.Connecting))
            {
                OnReadable(connection);
            }
        }

        var now = TimestampNs();
        if (now - _lastTickNs >= TickIntervalNs)
        {
            _lastTickNs = now;
            for (var i = 0; i < _slotCount; i++)
            {
                if (_slots[i] is { State: ConnectionState.Open } connection)
                {
                    connection.Adapter.OnTick(this, connection, now);
                }
            }
        }

        return count;
    }

    /// <summary>Polls until <paramref name="done"/> holds or the timeout passes; true when it holds.</summary>
    public bool RunUntil(Func<bool> done, TimeSpan timeout)
    {
        var deadline = TimestampNs() + (long)(timeout.TotalMilliseconds * 1e6);
        while (!done())
        {
            var left = (deadline - TimestampNs()) / 1_000_000;
            if (left <= 0)
            {
                return false;
            }

            Poll((int)Math.Min(left, 50));
        }

        return true;
    }

    /// <summary>Sends one masked text frame (client frames must be masked, RFC 6455 §5.3).</summary>
    public void SendText(Connection connection, ReadOnlySpan<byte> text) => SendFrame(connection, 0x1, text);

    /// <summary>A scratch buffer adapters format outgoing text into before <see cref="SendText"/>.</summary>
    public Span<byte> TextScratch => _text;

    /// <summary>Called by adapters when the protocol handshake is done.</summary>
    public void MarkOpen(Connection connection)
    {
        if (connection.State == ConnectionState.Handshaking)
        {
            connection.State = ConnectionState.Open;
            Connecting--;
            OpenCount++;
        }
    }

    /// <summary>Counts <paramref name="count"/> deliveries whose payloads are not needed.</summary>
    public void Deliver(Connection connection, int count)
    {
        connection.Delivered += count;
        Delivered += count;
        LastDeliveryNs = NowNs;
    }

    /// <summary>Counts one delivery whose application payload starts at <paramref name="payload"/>.</summary>
    public void Deliver(Connection connection, ReadOnlySpan<byte> payload)
    {
        connection.Delivered++;
        Delivered++;
        LastDeliveryNs = NowNs;
        switch (Mode)
        {
            case DeliveryMode.OneWayLatency:
                if (TryParseTimestamp(payload, out var sentNs))
                {
                    Latencies?.Add(NowNs - sentNs);
                }

                break;
            case DeliveryMode.Echo:
                if (connection.EchoSentNs != 0)
                {
                    Latencies?.Add(NowNs - connection.EchoSentNs);
                    connection.EchoSentNs = 0;
                }

                if (EchoRunning && connection.State == ConnectionState.Open)
                {
                    SendEcho(connection);
                }

                break;
        }
    }

    /// <summary>Whether adapters must find each delivery's payload (latency and echo modes) or may just count.</summary>
    public bool WantsPayloads => Mode != DeliveryMode.Count;

    /// <summary>Sends one echo request whose payload is the current time as 20 digits padded with 'x'.</summary>
    public void SendEcho(Connection connection)
    {
        Span<byte> payload = stackalloc byte[Math.Max(EchoPayloadBytes, 20)];
        payload.Fill((byte)'x');
        var now = TimestampNs();
        WriteTimestamp(payload, now);
        var length = connection.Adapter.FormatEcho(_text, payload[..EchoPayloadBytes], connection);
        connection.EchoSentNs = now;
        SendText(connection, _text.AsSpan(0, length));
    }

    /// <summary>Starts a close handshake (1000) on every open connection.</summary>
    public void CloseAll()
    {
        Span<byte> code = stackalloc byte[2];
        BinaryPrimitives.WriteUInt16BigEndian(code, 1000);
        for (var i = 0; i < _slotCount; i++)
        {
            if (_slots[i] is { } connection)
            {
                if (connection.State is ConnectionState.Open or ConnectionState.Handshaking)
                {
                    SendFrame(connection, 0x8, code);
                    if (connection.State != ConnectionState.Closed)
                    {
                        if (connection.State == ConnectionState.Open)
                        {
                            OpenCount--;
                        }
                        else
                        {
                            Connecting--;
                        }

                        connection.State = ConnectionState.Closing;
                    }
                }
                else if (connection.State is ConnectionState.Connecting or ConnectionState.Upgrading)
                {
                    Fail(connection, "closed before open");
                }
            }
        }
    }

    /// <summary>Drops every socket at once, without a close handshake.</summary>
    public void AbortAll()
    {
        for (var i = 0; i < _slotCount; i++)
        {
            if (_slots[i] is { State: not ConnectionState.Closed } connection)
            {
                Drop(connection, byServer: false);
            }
        }
    }

    /// <summary>The fewest deliveries any open connection has had since <see cref="ResetCounters"/>.</summary>
    public long MinDeliveredSinceReset()
    {
        var min = long.MaxValue;
        for (var i = 0; i < _slotCount; i++)
        {
            if (_slots[i] is { State: ConnectionState.Open } connection && connection.Delivered - connection.DeliveredAtReset < min)
            {
                min = connection.Delivered - connection.DeliveredAtReset;
            }
        }

        return min == long.MaxValue ? 0 : min;
    }

    public void ResetCounters()
    {
        for (var i = 0; i < _slotCount; i++)
        {
            if (_slots[i] is { } connection)
            {
                connection.DeliveredAtReset = connection.Delivered;
            }
        }

        Delivered = 0;
        LastDeliveryNs = 0;
        Failed = 0;
        ClosedByServer = 0;
        LastFailure = null;
        CloseCodes.Clear();
    }

    public void Fail(Connection connection, string reason)
    {
        Failed++;
        LastFailure = reason;
        Drop(connection, byServer: false);
    }

    public void Dispose()
    {
        AbortAll();
        Libc.Close(_epoll);
        NativeMemory.Free(_events);
    }

    private static bool TryParseTimestamp(ReadOnlySpan<byte> payload, out long ns)
    {
        ns = 0;
        if (payload.Length < 20)
        {
            return false;
        }

        for (var i = 0; i < 20; i++)
        {
            var digit = payload[i] - (byte)'0';
            if ((uint)digit > 9)
            {
                return false;
            }

            ns = (ns * 10) + digit;
        }

        return true;
    }

    private static void WriteTimestamp(Span<byte> payload, long ns)
    {
        for (var i = 19; i >= 0; i--)
        {
            payload[i] = (byte)('0' + (ns % 10));
            ns /= 10;
        }
    }

    private void Control(Connection connection, int op, uint events)
    {
        var ev = new Libc.EpollEvent { Events = events, Data = ((ulong)(uint)connection.Fd << 32) | (uint)connection.Slot };
        if (Libc.EpollCtl(_epoll, op, connection.Fd, &ev) != 0)
        {
            throw new InvalidOperationException($"epoll_ctl failed: errno {Libc.Errno}");
        }
    }

    private void OnWritable(Connection connection)
    {
        if (connection.State == ConnectionState.Connecting)
        {
            int error = 0, length = sizeof(int);
            Libc.GetSockOpt(connection.Fd, Libc.SolSocket, Libc.SoError, &error, &length);
            if (error != 0)
            {
                Fail(connection, $"connect failed: errno {error}");
                return;
            }

            connection.State = ConnectionState.Upgrading;
            Control(connection, Libc.EpollCtlMod, Libc.EpollIn);
            Span<byte> nonce = stackalloc byte[16];
            Random.Shared.NextBytes(nonce);
            var key = Convert.ToBase64String(nonce);
            var request = $"GET {connection.Adapter.Path} HTTP/1.1\r\nHost: 127.0.0.1:{_port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n";
            Write(connection, Encoding.ASCII.GetBytes(request));
            return;
        }

        // Flush what the kernel refused earlier.
        if (connection.OutgoingLength > 0)
        {
            var outgoing = connection.Outgoing!;
            var sent = SendRaw(connection, outgoing.AsSpan(0, connection.OutgoingLength));
            if (sent < 0)
            {
                return;
            }

            outgoing.AsSpan(sent, connection.OutgoingLength - sent).CopyTo(outgoing);
            connection.OutgoingLength -= sent;
            if (connection.OutgoingLength == 0)
            {
                ArrayPool<byte>.Shared.Return(outgoing);
                connection.Outgoing = null;
                Control(connection, Libc.EpollCtlMod, Libc.EpollIn);
            }
        }
    }

    private void OnReadable(Connection connection)
    {
        byte[] buffer;
        int total;
        nint received;
        if (connection.PendingLength > 0)
        {
            // Continue the partial frame where it is, so a large frame is never copied more than once.
            var pending = connection.Pending!;
            var want = Math.Max(connection.NeededBytes, connection.PendingLength + 16 * 1024);
            if (pending.Length < want)
            {
                var grown = ArrayPool<byte>.Shared.Rent(want);
                pending.AsSpan(0, connection.PendingLength).CopyTo(grown);
                ArrayPool<byte>.Shared.Return(pending);
                connection.Pending = pending = grown;
            }

            fixed (byte* p = pending)
            {
                received = Libc.Recv(connection.Fd, p + connection.PendingLength, pending.Length - connection.PendingLength, 0);
            }

            buffer = pending;
            total = connection.PendingLength + (int)Math.Max(received, 0);
        }
        else
        {
            fixed (byte* p = _receive)
            {
                received = Libc.Recv(connection.Fd, p, _receive.Length, 0);
            }

            buffer = _receive;
            total = (int)Math.Max(received, 0);
        }

        if (received <= 0)
        {
            if (received < 0 && Libc.Errno == Libc.EAgain)
            {
                return;
            }

            // EOF or reset: a server that closes without a close frame.
            if (connection.State is ConnectionState.Upgrading or ConnectionState.Handshaking)
            {
                Fail(connection, received == 0 ? "closed during handshake" : $"recv errno {Libc.Errno} during handshake");
            }
            else
            {
                Drop(connection, byServer: connection.State != ConnectionState.Closing);
            }

            return;
        }

        NowNs = TimestampNs();
        var consumed = Parse(connection, buffer.AsSpan(0, total));
        if (connection.State == ConnectionState.Closed)
        {
            return;
        }

        var left = total - consumed;
        if (ReferenceEquals(buffer, connection.Pending))
        {
            if (left == 0)
            {
                ArrayPool<byte>.Shared.Return(buffer);
                connection.Pending = null;
            }
            else if (consumed > 0)
            {
                buffer.AsSpan(consumed, left).CopyTo(buffer);
            }

            connection.PendingLength = left;
        }
        else if (left > 0)
        {
            var pending = ArrayPool<byte>.Shared.Rent(Math.Max(Math.Max(connection.NeededBytes, left), 4096));
            buffer.AsSpan(consumed, left).CopyTo(pending);
            connection.Pending = pending;
            connection.PendingLength = left;
        }
    }

    /// <summary>Handles every complete frame in <paramref name="data"/>; returns how many bytes were used.</summary>
    private int Parse(Connection connection, ReadOnlySpan<byte> data)
    {
        var position = 0;
        connection.NeededBytes = 0;
        if (connection.State == ConnectionState.Upgrading)
        {
            var end = data.IndexOf(HeaderEnd);
            if (end < 0)
            {
                if (data.Length > 16 * 1024)
                {
                    Fail(connection, "HTTP response head too large");
                }

                return 0;
            }

            if (!data.StartsWith("HTTP/1.1 101"u8))
            {
                var line = Encoding.ASCII.GetString(data[..Math.Max(0, data.IndexOf((byte)'\r'))]);
                Fail(connection, $"upgrade refused: {line}");
                return data.Length;
            }

            position = end + HeaderEnd.Length;
            connection.State = ConnectionState.Handshaking;
            connection.Adapter.OnUpgraded(this, connection);
        }

        while (data.Length - position >= 2 && connection.State != ConnectionState.Closed)
        {
            var frame = data[position..];
            var fin = (frame[0] & 0x80) != 0;
            var opcode = frame[0] & 0x0F;
            var length7 = frame[1] & 0x7F;
            if ((frame[1] & 0x80) != 0)
            {
                Fail(connection, "masked frame from the server");
                return data.Length;
            }

            int header;
            long length;
            if (length7 < 126)
            {
                header = 2;
                length = length7;
            }
            else if (length7 == 126)
            {
                if (frame.Length < 4)
                {
                    break;
                }

                header = 4;
                length = BinaryPrimitives.ReadUInt16BigEndian(frame[2..]);
            }
            else
            {
                if (frame.Length < 10)
                {
                    break;
                }

                header = 10;
                length = BinaryPrimitives.ReadInt64BigEndian(frame[2..]);
                if (length is < 0 or > 256L * 1024 * 1024)
                {
                    Fail(connection, $"frame of {length} bytes");
                    return data.Length;
                }
            }

            if (frame.Length < header + length)
            {
                connection.NeededBytes = header + (int)length;
                break;
            }

            OnFrame(connection, fin, opcode, frame.Slice(header, (int)length));
            position += header + (int)length;
        }

        return position;
    }

    private static int s_trace = int.TryParse(Environment.GetEnvironmentVariable("LOADGEN_TRACE"), out var n) ? n : 0;

    private void OnFrame(Connection connection, bool fin, int opcode, ReadOnlySpan<byte> payload)
    {
        if (s_trace > 0)
        {
            s_trace--;
            Console.WriteLine($"trace {connection.Slot} op {opcode} fin {fin} len {payload.Length}: {Encoding.UTF8.GetString(payload[..Math.Min(160, payload.Length)])}");
        }

        switch (opcode)
        {
            case 0x1 or 0x2 when fin && !connection.InMessage:
                connection.Adapter.OnMessage(this, connection, payload);
                break;
            case 0x1 or 0x2:
                connection.InMessage = true;
                connection.MessageLength = 0;
                AppendMessage(connection, payload);
                break;
            case 0x0:
                AppendMessage(connection, payload);
                if (fin)
                {
                    var message = connection.Message!;
                    connection.InMessage = false;
                    connection.Adapter.OnMessage(this, connection, message.AsSpan(0, connection.MessageLength));
                    if (ReferenceEquals(connection.Message, message))
                    {
                        ArrayPool<byte>.Shared.Return(message);
                        connection.Message = null;
                        connection.MessageLength = 0;
                    }
                }

                break;
            case 0x8:
                var code = payload.Length >= 2 ? BinaryPrimitives.ReadUInt16BigEndian(payload) : 1005;
                connection.CloseCode = code;
                var byServer = connection.State != ConnectionState.Closing;
                if (byServer)
                {
                    CloseCodes[code] = CloseCodes.GetValueOrDefault(code) + 1;
                    SendFrame(connection, 0x8, payload.Length >= 2 ? payload[..2] : default);
                }

                Drop(connection, byServer);
                break;
            case 0x9:
                SendFrame(connection, 0xA, payload);
                break;
            default:
                break;
        }
    }

    private static void AppendMessage(Connection connection, ReadOnlySpan<byte> payload)
    {
        var message = connection.Message;
        var need = connection.MessageLength + payload.Length;
        if (message is null || message.Length < need)
        {
            var grown = ArrayPool<byte>.Shared.Rent(Math.Max(need, 4096));
            if (message is not null)
            {
                message.AsSpan(0, connection.MessageLength).CopyTo(grown);
                ArrayPool<byte>.Shared.Return(message);
            }

            connection.Message = message = grown;
        }

        payload.CopyTo(message.AsSpan(connection.MessageLength));
        connection.MessageLength = need;
    }

    private void SendFrame(Connection connection, int opcode, ReadOnlySpan<byte> payload)
    {
        var header = payload.Length < 126 ? 2 : payload.Length <= ushort.MaxValue ? 4 : 10;
        var size = header + 4 + payload.Length;
        var frame = size <= _frame.Length ? _frame : ArrayPool<byte>.Shared.Rent(size);
        frame[0] = (byte)(0x80 | opcode);
        if (header == 2)
        {
            frame[1] = (byte)(0x80 | payload.Length);
        }
        else if (header == 4)
        {
            frame[1] = 0x80 | 126;
            BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(2), (ushort)payload.Length);
        }
        else
        {
            frame[1] = 0x80 | 127;
            BinaryPrimitives.WriteInt64BigEndian(frame.AsSpan(2), payload.Length);
        }

        // xorshift: masking keys need not be cryptographic for a load generator, only varying.
        _maskState ^= _maskState << 13;
        _maskState ^= _maskState >> 7;
        _maskState ^= _maskState << 17;
        var mask = (uint)_maskState;
        BinaryPrimitives.WriteUInt32LittleEndian(frame.AsSpan(header), mask);
        var body = frame.AsSpan(header + 4, payload.Length);
        payload.CopyTo(body);
        var mask64 = ((ulong)mask << 32) | mask;
        var i = 0;
        for (; i + 8 <= body.Length; i += 8)
        {
            var chunk = MemoryMarshal.Read<ulong>(body[i..]) ^ mask64;
            MemoryMarshal.Write(body[i..], in chunk);
        }

        for (; i < body.Length; i++)
        {
            body[i] ^= (byte)(mask >> (8 * (i & 3)));
        }

        Write(connection, frame.AsSpan(0, size));
        if (!ReferenceEquals(frame, _frame))
        {
            ArrayPool<byte>.Shared.Return(frame);
        }
    }

    private void Write(Connection connection, ReadOnlySpan<byte> bytes)
    {
        if (connection.State == ConnectionState.Closed)
        {
            return;
        }

        var sent = 0;
        if (connection.OutgoingLength == 0)
        {
            sent = SendRaw(connection, bytes);
            if (sent < 0 || sent == bytes.Length)
            {
                return;
            }
        }

        // The kernel's send buffer is full: keep the rest and ask for a writable event.
        var rest = bytes[sent..];
        var outgoing = connection.Outgoing;
        var need = connection.OutgoingLength + rest.Length;
        if (outgoing is null || outgoing.Length < need)
        {
            var grown = ArrayPool<byte>.Shared.Rent(Math.Max(need, 4096));
            outgoing?.AsSpan(0, connection.OutgoingLength).CopyTo(grown);
            if (outgoing is not null)
            {
                ArrayPool<byte>.Shared.Return(outgoing);
            }

            connection.Outgoing = outgoing = grown;
        }

        var wasEmpty = connection.OutgoingLength == 0;
        rest.CopyTo(outgoing.AsSpan(connection.OutgoingLength));
        connection.OutgoingLength = need;
        if (wasEmpty)
        {
            Control(connection, Libc.EpollCtlMod, Libc.EpollIn | Libc.EpollOut);
        }
    }

    /// <summary>send() as much as the kernel takes; -1 when the connection failed (and was dropped).</summary>
    private int SendRaw(Connection connection, ReadOnlySpan<byte> bytes)
    {
        fixed (byte* p = bytes)
        {
            while (true)
            {
                var sent = Libc.Send(connection.Fd, p, bytes.Length, Libc.MsgNoSignal);
                if (sent >= 0)
                {
                    return (int)sent;
                }

                var errno = Libc.Errno;
                if (errno == Libc.EAgain)
                {
                    return 0;
                }

                if (errno != Libc.EIntr)
                {
                    Drop(connection, byServer: connection.State != ConnectionState.Closing);
                    return -1;
                }
            }
        }
    }

    private void Drop(Connection connection, bool byServer)
    {
        if (connection.State == ConnectionState.Closed)
        {
            return;
        }

        switch (connection.State)
        {
            case ConnectionState.Open:
                OpenCount--;
                break;
            case ConnectionState.Connecting or ConnectionState.Upgrading or ConnectionState.Handshaking:
                Connecting--;
                break;
        }

        if (byServer && connection.State == ConnectionState.Open)
        {
            ClosedByServer++;
        }

        connection.State = ConnectionState.Closed;
        Libc.Close(connection.Fd);
        connection.Fd = -1;
        foreach (var buffer in new[] { connection.Pending, connection.Message, connection.Outgoing })
        {
            if (buffer is not null)
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }
        }

        connection.Pending = connection.Message = connection.Outgoing = null;
        connection.PendingLength = connection.MessageLength = connection.OutgoingLength = 0;
        _slots[connection.Slot] = null;
        _freeSlots.Push(connection.Slot);
    }
}
