namespace VizHtml.LoadGen.Scenarios;

/// <summary>What a run of the suite measures and how long each measurement lasts.</summary>
internal sealed class SuiteOptions
{
    public static readonly string[] AllScenarios = ["echo", "hostapp", "fewtablets", "sustained", "broadcast", "storm", "idle"];

    public required string RepoRoot { get; init; }
    public required IReadOnlyList<string> Servers { get; init; }
    public required IReadOnlyList<string> Scenarios { get; init; }
    public int Runs { get; init; } = 3;
    public bool Quick { get; init; }

    /// <summary>Where loadgen.json and loadgen.meta.json go, relative to the repository root.</summary>
    public string ResultsFolder { get; init; } = "bench/results";

    public string ResultsPath => Path.Combine(RepoRoot, ResultsFolder, "loadgen.json");
    public string MetaPath => Path.Combine(RepoRoot, ResultsFolder, "loadgen.meta.json");
    public string LogDirectory => Path.Combine(RepoRoot, "bench/results/logs");

    // Broadcast: client counts, message sizes, and the messages per client of the warm-up (a quarter of the base count)
    // from which the measured count is chosen so the window lasts about BroadcastWindow.
    public int[] BroadcastClients => Quick ? [100, 1000] : [100, 1000, 5000];
    public int[] BroadcastSizes { get; } = [64, 1024];
    public TimeSpan BroadcastWindow => Quick ? TimeSpan.FromSeconds(0.4) : TimeSpan.FromSeconds(2.5);

    /// <summary>Messages per client to start from: about 500 k deliveries at 64 B and 200 k at 1 KB (a quarter in quick mode).</summary>
    public int BroadcastBaseCount(int clients, int size) =>
        Math.Max(20, (size <= 64 ? 500_000 : 200_000) / clients / (Quick ? 4 : 1));

    /// <summary>The most messages a broadcast leaves undelivered per client at any time (see Suite.MeasureBroadcast).</summary>
    public int MaxOutstandingPerClient { get; } = 1000;

    /// <summary>Stop waiting when no delivery arrived for this long (a server that dropped clients or stalled).</summary>
    public TimeSpan StallTimeout => Quick ? TimeSpan.FromSeconds(5) : TimeSpan.FromSeconds(15);

    public int HostAppClients { get; } = 200;
    public int HostAppHz { get; } = 60;
    public int HostAppSeconds => Quick ? 2 : 10;
    public int HostAppBytes { get; } = 1024;

    /// <summary>
    /// The original toolkit's own use (issue 15): a frame loop sends the view to a few tablets every frame, 5 clients × 90 Hz
    /// × 200 B; the frame loop's cost of each SendAll is what matters most.
    /// </summary>
    public int FewTabletsClients { get; } = 5;
    public int FewTabletsHz { get; } = 90;
    public int FewTabletsSeconds => Quick ? 2 : 10;
    public int FewTabletsBytes { get; } = 200;

    /// <summary>Sustained broadcast: 1,000 clients × 100 Hz = 100 k deliveries/s from the server's timer, for seconds.</summary>
    public int SustainedClients { get; } = 1000;
    public int SustainedHz { get; } = 100;
    public int SustainedSeconds => Quick ? 2 : 8;
    public int SustainedBytes { get; } = 64;

    public int[] EchoClients { get; } = [1, 100];
    public int EchoBytes { get; } = 64;
    public TimeSpan EchoWarmup => Quick ? TimeSpan.FromSeconds(0.3) : TimeSpan.FromSeconds(1);
    public TimeSpan EchoWindow => Quick ? TimeSpan.FromSeconds(1) : TimeSpan.FromSeconds(4);

    public int StormConnections => Quick ? 500 : 2000;
    public int ConnectConcurrency { get; } = 64;

    public int IdleConnections => Quick ? 2000 : 10_000;

    /// <summary>
    /// The most connections tried in one server process. The load generator has the same 20,000 open-file limit as
    /// the server, so 19,000 sockets plus its own few descriptors stay under it.
    /// </summary>
    public int MaxConnections => Quick ? 4000 : 19_000;
}
