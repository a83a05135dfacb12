namespace VizHtml.Tests.Contracts;

// The contract the contract tests generate from: an experiment whose program streams a pose to its pages, gets clicks
// back, is asked to start a trial, and asks the experimenter to confirm.
public enum Hand
{
    Left,
    Right,
}

public sealed record Pose(double X, double Y, double Z);

public sealed record Click(int Count, Hand Hand, string? Label = null);

public sealed record Target(string Id, double X, double Y);

public sealed record StartTrial(int Trial, string Participant, IReadOnlyList<Target> Targets);

public sealed record TrialAccepted(bool Accepted, string? Reason);

public sealed record Question(string Text, Dictionary<string, int> Options);

public static class Trial
{
    public static readonly VizEvent<Pose> Pose = VizEvent.ToPage<Pose>("pose", VizDelivery.Latest);
    public static readonly VizEvent<Click> Click = VizEvent.ToServer<Click>("button_click");
    public static readonly VizCall<StartTrial, TrialAccepted> Start = VizCall.ToServer<StartTrial, TrialAccepted>("start_trial");
    public static readonly VizCall<Question, bool> Confirm = VizCall.ToPage<Question, bool>("confirm");
}
