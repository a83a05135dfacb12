namespace VizHtml.Fuzz;

/// <summary>
/// Thrown by a target when the code under test returned normally but broke one of its invariants. The fuzzer sees
/// it as a crash like any other exception. <see cref="Invariant"/> is a stable short name used to group findings.
/// </summary>
public sealed class InvariantException : Exception
{
    public InvariantException()
    {
        Invariant = "unknown";
    }

    public InvariantException(string message)
        : base(message)
    {
        Invariant = "unknown";
    }

    public InvariantException(string message, Exception innerException)
        : base(message, innerException)
    {
        Invariant = "unknown";
    }

    public InvariantException(string invariant, string message, Exception? innerException = null)
        : base($"[{invariant}] {message}", innerException)
    {
        Invariant = invariant;
    }

    /// <summary>A stable name such as <c>envelope.data-reserializes</c>.</summary>
    public string Invariant { get; }

    public static void Check(bool condition, string invariant, string message)
    {
        if (!condition)
        {
            throw new InvariantException(invariant, message);
        }
    }
}
