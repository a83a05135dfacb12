using VizHtml.LoadGen.Protocols;

namespace VizHtml.LoadGen.Net;

internal enum ConnectionState
{
    Connecting,
    Upgrading,
    Handshaking,
    Open,
    Closing,
    Closed,
}

/// <summary>
/// One client socket of the event loop. Kept small on purpose: an idle connection holds no buffer, only these fields
/// (the idle-memory scenario opens 19,000 of them in one process).
/// </summary>
internal sealed class Connection(int slot, int fd, ProtocolAdapter adapter)
{
    public int Slot { get; } = slot;
    public int Fd { get; set; } = fd;
    public ProtocolAdapter Adapter { get; } = adapter;
    public ConnectionState State { get; set; } = ConnectionState.Connecting;

    /// <summary>Received bytes not parsed yet (a partial frame or HTTP response), rented only while needed.</summary>
    public byte[]? Pending { get; set; }
    public int PendingLength { get; set; }

    /// <summary>Size of the partial frame at the start of <see cref="Pending"/>, when its header is known.</summary>
    public int NeededBytes { get; set; }

    /// <summary>A fragmented message being put together, rented only while one is in flight.</summary>
    public byte[]? Message { get; set; }
    public int MessageLength { get; set; }
    public bool InMessage { get; set; }

    /// <summary>Outgoing bytes the kernel did not take yet.</summary>
    public byte[]? Outgoing { get; set; }
    public int OutgoingLength { get; set; }

    public long Delivered { get; set; }
    public long DeliveredAtReset { get; set; }
    public int CloseCode { get; set; }

    /// <summary>Adapter state: handshake step (socket.io), highest server seq seen and acknowledged (VizHtml).</summary>
    public int HandshakeStep { get; set; }
    public long LastSeq { get; set; }
    public long AckedSeq { get; set; }
    public long UnackedBytes { get; set; }
    public long LastKeepAliveNs { get; set; }
    public long ClientSeq { get; set; }

    /// <summary>Echo: when the outstanding request was sent (0 = none outstanding).</summary>
    public long EchoSentNs { get; set; }
}
