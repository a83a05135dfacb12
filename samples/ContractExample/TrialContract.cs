using VizHtml;

namespace ContractExample;

/// <summary>A participant's hand pose, streamed to the page every frame.</summary>
public sealed record Pose(double X, double Y, double Z);

/// <summary>A click on the page's button: how many so far, and which trial it was in (none before the first).</summary>
public sealed record Click(int Count, int? Trial = null);

/// <summary>What the program tells every page when a trial starts.</summary>
public sealed record TrialStarted(int Trial, string Participant, IReadOnlyList<string> Conditions);

/// <summary>
/// The contract between the program and its page, declared once: names, directions and payload types. The server sends
/// and handles through these fields; the page is checked against the TypeScript generated from them.
/// </summary>
public static class Trial
{
    public static readonly VizEvent<Pose> Pose = VizEvent.ToPage<Pose>("pose", VizDelivery.Latest);
    public static readonly VizEvent<TrialStarted> Started = VizEvent.ToPage<TrialStarted>("trial_started");
    public static readonly VizEvent<Click> Click = VizEvent.ToServer<Click>("button_click");
}
