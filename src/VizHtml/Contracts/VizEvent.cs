namespace VizHtml;

/// <summary>
/// Declares a contract's named events: <c>public static readonly VizEvent&lt;Pose&gt; Pose = VizEvent.ToPage&lt;Pose&gt;("pose");</c>
/// in a static class, then <c>server.SendAll(Trial.Pose, pose)</c>, <c>server.OnMessage(Trial.Click, ...)</c> and the page's
/// TypeScript declarations (<see cref="VizContract"/>) all follow that one line.
/// </summary>
public static class VizEvent
{
    /// <summary>An event the server sends to pages (<c>SendAll</c>, <c>VizClient.Send</c>; <c>onevent</c> on the page).</summary>
    /// <typeparam name="T">The payload, as System.Text.Json writes it with the server's options.</typeparam>
    /// <param name="name">The event name on the wire; must not start with <c>$</c>.</param>
    /// <param name="delivery">The delivery class typed sends use; <see langword="null"/> for the server's setting for the name (<see cref="VizHtmlServer.SetDelivery"/>).</param>
    /// <exception cref="ArgumentException">The name is empty, too long or reserved.</exception>
    public static VizEvent<T> ToPage<T>(string name, VizDelivery? delivery = null) => new(name, VizDirection.ToPage, delivery);

    /// <summary>An event pages send to the server (<c>send</c> on the page; <c>OnMessage</c> in C#).</summary>
    /// <typeparam name="T">The payload, as System.Text.Json reads it with the server's options.</typeparam>
    /// <param name="name">The event name on the wire; must not start with <c>$</c>.</param>
    /// <exception cref="ArgumentException">The name is empty, too long or reserved.</exception>
    public static VizEvent<T> ToServer<T>(string name) => new(name, VizDirection.ToServer, delivery: null);

    /// <summary>An event that goes both ways with the same payload (a shared state either side may change).</summary>
    /// <typeparam name="T">The payload.</typeparam>
    /// <param name="name">The event name on the wire; must not start with <c>$</c>.</param>
    /// <param name="delivery">The delivery class the server's typed sends use; <see langword="null"/> for the server's setting for the name.</param>
    /// <exception cref="ArgumentException">The name is empty, too long or reserved.</exception>
    public static VizEvent<T> Both<T>(string name, VizDelivery? delivery = null) => new(name, VizDirection.Both, delivery);
}

/// <summary>A named event of a contract with payload type <typeparamref name="T"/>; made by <see cref="VizEvent"/>. Immutable.</summary>
/// <typeparam name="T">The payload type.</typeparam>
public sealed class VizEvent<T> : VizContractMember
{
    internal VizEvent(string name, VizDirection direction, VizDelivery? delivery)
        : base(name, direction, typeof(T), responseType: null)
    {
        Delivery = delivery;
    }

    /// <summary>The delivery class typed sends of this event use; <see langword="null"/> for the server's setting for its name.</summary>
    public VizDelivery? Delivery { get; }

    internal override VizDelivery? DeliveryClass => Delivery;
}
