using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using Xunit.Abstractions;

namespace VizHtml.Tests.Contracts;

/// <summary>
/// A page written in TypeScript against a contract's generated declarations: the pinned TypeScript (test/readme-typecheck,
/// installed there by scripts/test.sh with <c>npm ci</c>) checks it with <c>--strict</c> together with vizhtml.d.ts. The
/// page as written checks; each copy of it with one mistake (an event or request name misspelt, a payload field that the
/// contract does not have, a wrong type) fails, with the error TypeScript gives for that mistake, on that line. One tsc
/// run checks the page and every copy.
/// </summary>
public sealed class ContractTypeCheckTests(ITestOutputHelper output)
{
    /// <summary>A page using every part of the Trial contract: onevent, send, request and onrequest.</summary>
    private const string Page = """
        const socket: VizContract.Socket = new viz.WebSocket();
        const status = document.createElement('p');

        socket.onevent('pose', e => {
            const pose: VizContract.Pose = e.data;
            status.textContent = `${pose.x.toFixed(2)} ${pose.y} ${pose.z}`;
        });
        socket.onevent('*', e => {
            if (e.event === 'pose') status.title = String(e.data.x);
        });

        socket.send('button_click', { count: 1, hand: 0 });
        socket.send('button_click', { count: 2, hand: 1, label: 'again' });

        async function start(trial: number): Promise<string> {
            const answer = await socket.request('start_trial', { trial, participant: 'p01', targets: [{ id: 'a', x: 0.5, y: 0.25 }] });
            return answer.accepted ? 'started' : answer.reason ?? 'refused';
        }

        socket.onrequest('confirm', e => window.confirm(`${e.data.text} (${Object.keys(e.data.options).join(', ')})`));

        void start(3);
        """;

    /// <summary>Each mistake: the line of <see cref="Page"/> it replaces (a fragment that line contains), the line put there, and the TypeScript error expected there.</summary>
    private static readonly (string Mistake, string Replaced, string Replacement, string Code)[] MistakeList =
    [
        // Misspelt names: no onevent overload takes 'poze'; the names send, request and onrequest take are the map's keys.
        ("an event name misspelt in onevent", "socket.onevent('pose', e => {", "socket.onevent('poze', e => {", "TS2769"),
        ("an event name misspelt in send", "socket.send('button_click', { count: 1, hand: 0 });", "socket.send('buton_click', { count: 1, hand: 0 });", "TS2345"),
        ("a page-to-server event received", "socket.onevent('pose', e => {", "socket.onevent('button_click', e => {", "TS2769"),
        ("a server-to-page event sent", "socket.send('button_click', { count: 1, hand: 0 });", "socket.send('pose', { x: 1, y: 2, z: 3 });", "TS2345"),
        ("a request name misspelt", "const answer = await socket.request('start_trial',", "    const answer = await socket.request('start_trail', { trial, participant: 'p01', targets: [] });", "TS2345"),
        ("an answer name misspelt in onrequest", "socket.onrequest('confirm',", "socket.onrequest('confirn', e => window.confirm(e.data.text));", "TS2345"),

        // Wrong payload fields and types, sent and received.
        ("a payload field misspelt in send", "socket.send('button_click', { count: 1, hand: 0 });", "socket.send('button_click', { cuont: 1, hand: 0 });", "TS2561"),
        ("a payload field missing in send", "socket.send('button_click', { count: 1, hand: 0 });", "socket.send('button_click', { hand: 0 });", "TS2345"),
        ("a payload field of the wrong type in send", "socket.send('button_click', { count: 1, hand: 0 });", "socket.send('button_click', { count: '1', hand: 0 });", "TS2322"),
        ("a received field the payload does not have", "status.textContent = `${pose.x.toFixed(2)}", "    status.textContent = `${pose.w}`;", "TS2339"),
        ("a request field misspelt", "const answer = await socket.request('start_trial',", "    const answer = await socket.request('start_trial', { trial, participant: 'p01', target: [] });", "TS2561"),
        ("a response field misspelt", "return answer.accepted ?", "    return answer.acepted ? 'started' : 'refused';", "TS2551"),
        ("a nullable field used as not null", "return answer.accepted ?", "    return answer.reason.toUpperCase();", "TS18047"),
        ("an answer of the wrong type", "socket.onrequest('confirm',", "socket.onrequest('confirm', e => e.data.text);", "TS2322"),
    ];

    /// <summary>One run of tsc over the page and every mistake (each its own module), shared by the tests.</summary>
    private static readonly Lazy<(Dictionary<string, List<Diagnostic>> ByFile, string Printed)> Checked = new(CheckAll);

    public static TheoryData<string> Mistakes() => [.. MistakeList.Select(m => m.Mistake)];

    [Fact]
    public void APageWrittenAgainstTheContractChecksUnderStrict()
    {
        // Nothing in page.ts, nor in contract.d.ts and vizhtml.d.ts themselves (skipLibCheck is off).
        var problems = Checked.Value.ByFile.Where(f => !f.Key.StartsWith("mistake-", StringComparison.Ordinal)).SelectMany(f => f.Value).ToList();

        Assert.True(problems.Count == 0, "The page does not type-check against the generated contract:\n" + string.Join('\n', problems));
        Assert.True(Checked.Value.ByFile.Count(f => f.Key.StartsWith("mistake-", StringComparison.Ordinal)) == MistakeList.Length, "tsc reported on fewer mistakes than were written:\n" + Checked.Value.Printed);
    }

    [Theory]
    [MemberData(nameof(Mistakes))]
    public void EachMistakeFailsTheCheckWithItsErrorOnItsLine(string mistake)
    {
        var index = Array.FindIndex(MistakeList, m => m.Mistake == mistake);
        var line = MistakeLine(MistakeList[index]) + 1;

        var problems = Checked.Value.ByFile.GetValueOrDefault(FileOf(index)) ?? [];

        output.WriteLine($"{mistake} (line {line}):\n  {string.Join("\n  ", problems)}");
        Assert.True(problems.Count > 0, $"{mistake}: the page still type-checks");
        Assert.Contains(problems, p => p.Line == line && p.Code == MistakeList[index].Code);

        // Errors after it may follow from it (a handler of an unknown event sees no data), but none before.
        Assert.All(problems, p => Assert.True(p.Line >= line, $"{mistake}: an error before the mistake: {p}"));
    }

    [Fact]
    public void TheContractSamplesCommittedDeclarationsAreCurrentAndItsPageChecksAgainstThem()
    {
        // samples/ContractExample's build writes page/contract.d.ts; the committed copy must be what it writes today.
        var page = Path.Combine(RepositoryRoot(), "samples", "ContractExample", "page");
        Assert.Equal(VizContract.From(typeof(ContractExample.Trial)).ToTypeScript(), File.ReadAllText(Path.Combine(page, "contract.d.ts")));

        var printed = RunTsc(["-p", Path.Combine(page, "jsconfig.json")], page);

        Assert.True(printed.Length == 0, "samples/ContractExample/page/trial.js does not check against its contract:\n" + printed);
    }

    private static string FileOf(int index) => $"mistake-{index}.ts";

    private static int MistakeLine((string Mistake, string Replaced, string Replacement, string Code) mistake)
    {
        var index = Array.FindIndex(PageLines(), l => l.Contains(mistake.Replaced, StringComparison.Ordinal));
        Assert.True(index >= 0, $"The page has no line with \"{mistake.Replaced}\"");
        return index;
    }

    private static string[] PageLines() => Page.Replace("\r", "", StringComparison.Ordinal).Split('\n');

    private static (Dictionary<string, List<Diagnostic>> ByFile, string Printed) CheckAll()
    {
        var pages = new Dictionary<string, string>(StringComparer.Ordinal) { ["page.ts"] = Page };
        for (var i = 0; i < MistakeList.Length; i++)
        {
            var lines = PageLines();
            var at = MistakeLine(MistakeList[i]);
            var indent = lines[at][..(lines[at].Length - lines[at].TrimStart().Length)];
            lines[at] = MistakeList[i].Replacement.StartsWith(' ') ? MistakeList[i].Replacement : indent + MistakeList[i].Replacement;
            pages[FileOf(i)] = string.Join('\n', lines);
        }

        var printed = RunTsc(pages);
        var byFile = new Dictionary<string, List<Diagnostic>>(StringComparer.Ordinal);
        foreach (var text in printed.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            // "file.ts(line,column): error TSnnnn: message"; the indented lines after it continue its message.
            var match = Regex.Match(text, @"([\w.-]+\.ts)\((\d+),(\d+)\): error (TS\d+): (.*)$");
            if (match.Success)
            {
                var file = match.Groups[1].Value;
                if (!byFile.TryGetValue(file, out var list))
                {
                    byFile[file] = list = [];
                }

                list.Add(new Diagnostic(file, int.Parse(match.Groups[2].Value, CultureInfo.InvariantCulture), match.Groups[4].Value, match.Groups[5].Value));
            }
        }

        return (byFile, printed);
    }

    /// <summary>What tsc --strict prints for vizhtml.d.ts, the Trial contract's declarations and the given pages.</summary>
    private static string RunTsc(Dictionary<string, string> pages)
    {
        var root = RepositoryRoot();
        var folder = Directory.CreateTempSubdirectory("vizhtml-contract-");
        try
        {
            var contract = Path.Combine(folder.FullName, "contract.d.ts");
            VizContract.From(typeof(Trial)).WriteTypeScript(contract);
            var files = new List<string> { Path.Combine(root, "src", "VizHtml", "Script", "vizhtml.d.ts"), contract };
            foreach (var (name, text) in pages)
            {
                var file = Path.Combine(folder.FullName, name);
                File.WriteAllText(file, text);
                files.Add(file);
            }

            // Each page is a module of its own (moduleDetection "force"), so every copy declares its own `socket`; the
            // two .d.ts files stay global, as a page loading vizhtml.js sees them.
            var config = new
            {
                compilerOptions = new Dictionary<string, object>
                {
                    ["strict"] = true,
                    ["noEmit"] = true,
                    ["skipLibCheck"] = false,
                    ["target"] = "es2022",
                    ["lib"] = new[] { "es2022", "dom" },
                    ["moduleDetection"] = "force",
                    ["types"] = Array.Empty<string>(),
                },
                files,
            };
            var configFile = Path.Combine(folder.FullName, "tsconfig.json");
            File.WriteAllText(configFile, JsonSerializer.Serialize(config));

            return RunTsc(["-p", configFile], folder.FullName);
        }
        finally
        {
            folder.Delete(recursive: true);
        }
    }

    /// <summary>What the pinned tsc prints with <paramref name="arguments"/> (empty when everything checks).</summary>
    private static string RunTsc(string[] arguments, string workingDirectory) => Docs.TypeScript.Run(arguments, workingDirectory);

    private static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "VizHtml.slnx")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException($"No VizHtml.slnx above {AppContext.BaseDirectory}");
    }

    private sealed record Diagnostic(string File, int Line, string Code, string Message)
    {
        public override string ToString() => $"{File}({Line}): error {Code}: {Message}";
    }
}
