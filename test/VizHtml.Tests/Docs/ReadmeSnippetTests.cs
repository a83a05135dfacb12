using System.Diagnostics;
using System.Globalization;
using System.Reflection.Metadata;
using System.Reflection.PortableExecutable;
using System.Text;
using System.Text.RegularExpressions;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Xunit.Abstractions;

namespace VizHtml.Tests.Docs;

/// <summary>
/// Every code block in README.md compiles as printed: a reader copies it and it works. Each ```csharp block is compiled
/// with Roslyn against VizHtml.dll and the .NET and ASP.NET Core shared frameworks; the page scripts (the inline
/// <c>&lt;script&gt;</c> of each ```html block, and each ```js or ```javascript block) are type-checked by TypeScript
/// (pinned in test/readme-typecheck, installed there by scripts/test.sh with <c>npm ci</c>) against vizhtml.d.ts and the
/// DOM, strict, so an undeclared name is an error. Failures name README.md's own lines.
/// </summary>
/// <remarks>
/// <para>A ```csharp block is a complete program by default: top-level statements in a console project (the SDK's
/// implicit usings, nullable enabled), so it must say <c>using VizHtml;</c> and declare everything it uses. Where a block
/// is a fragment by nature, an HTML comment on the line just above its fence (invisible once rendered) says so:</para>
/// <list type="bullet">
/// <item><c>&lt;!-- snippet: web --&gt;</c> a complete program in an ASP.NET Core project (<c>Microsoft.NET.Sdk.Web</c>'s
/// implicit usings).</item>
/// <item><c>&lt;!-- snippet: fragment --&gt;</c> statements inside <c>async Task RunAsync(VizHtmlServer server,
/// CancellationToken cancellationToken)</c>, with <c>using VizHtml;</c>: what a program has once it made its server.</item>
/// <item><c>&lt;!-- snippet: fragment; given: model --&gt;</c> the same, plus members of the surrounding class that stand for
/// the reader's own program (a model, its state); each name is an entry of <see cref="Givens"/>, and an unknown name
/// fails the test.</item>
/// </list>
/// <para>Page scripts have no markers: a ```html block is a page whose inline scripts run in one global scope (each block
/// on its own), and an id a script looks up with <c>document.getElementById('...')</c> must be an <c>id="..."</c> of the
/// same block. That check stands in for TypeScript's null checks, which are off: a page script written for the original
/// does not test each element it looks up.</para>
/// </remarks>
public sealed class ReadmeSnippetTests(ITestOutputHelper output)
{
    /// <summary>What a <c>given:</c> name in a fragment's marker declares, as members of the class the fragment runs in.</summary>
    private static readonly Dictionary<string, string> Givens = new(StringComparer.Ordinal)
    {
        ["model"] = """
            private readonly Model model = new();
            private sealed class Model { public object Snapshot() => new { frame = 1 }; }
            """,
        ["frame"] = "private int frame = 1;",
        ["speed"] = "private double speed = 1.0;",
    };

    /// <summary>Compiler warnings a block may raise: the fragment wrapper is async whether or not the block awaits.</summary>
    private static readonly HashSet<string> AllowedWarnings = new(StringComparer.Ordinal) { "CS1998" };

    /// <summary>"Cannot find name 'x'" and "Cannot find name 'x'. Did you mean 'y'?".</summary>
    private static readonly HashSet<string> UndeclaredNameCodes = new(StringComparer.Ordinal) { "2304", "2552" };

    private static readonly Lazy<IReadOnlyList<MetadataReference>> References = new(LoadReferences);

    [Fact]
    public void EveryCSharpBlockInTheReadmeCompiles()
    {
        var blocks = Readme.Blocks().Where(b => b.Language == "csharp").ToList();
        Assert.True(blocks.Count > 0, "README.md has no ```csharp block: the extraction is broken, so nothing was checked");

        var failures = new List<string>();
        foreach (var block in blocks)
        {
            var problems = CompileCSharp(block);
            output.WriteLine($"README.md line {block.FirstLine} ({block.Marker ?? "program"}): {(problems.Count == 0 ? "compiles" : $"{problems.Count} problem(s)")}");
            if (problems.Count > 0)
            {
                failures.Add($"The ```csharp block at README.md line {block.FirstLine} ({block.Marker ?? "a complete program"}) does not compile:\n  " + string.Join("\n  ", problems));
            }
        }

        Assert.True(failures.Count == 0, string.Join("\n\n", failures));
    }

    [Fact]
    public void EveryCodeBlockInTheReadmeNamesALanguageTheseTestsKnow()
    {
        // A block marked ```cs, ```c# or nothing would slip past both checks unseen; shell commands are not checked.
        // ```ts blocks are modules of a bundled page: test/VizHtml.IntegrationTests/Packaging/NpmPackageTests.cs
        // type-checks them against the packed npm package.
        var known = new HashSet<string>(StringComparer.Ordinal) { "csharp", "html", "js", "javascript", "sh", "ts" };
        var unknown = Readme.Blocks().Where(b => !known.Contains(b.Language)).Select(b => $"README.md line {b.FirstLine - 1}: ```{b.Language}").ToList();
        Assert.True(unknown.Count == 0, $"Blocks in a language these tests do not know ({string.Join(", ", known)}):\n" + string.Join('\n', unknown));
    }

    [Fact]
    public void TheCSharpCheckRejectsABlockThatUsesUndeclaredNames()
    {
        // The "Use it" block as it stood before the README was checked: undeclared running, x, y, z, and a "...".
        var broken = new Readme.Block("csharp", null, 56, """
            using VizHtml;

            await using var server = new VizHtmlServer(new VizHtmlOptions { Port = 8080 });
            while (running)
            {
                server.SendAll("pose", new { x, y, z });
                ...
            }
            """);

        var problems = CompileCSharp(broken);

        Assert.Contains(problems, p => p.Contains("README.md(59,", StringComparison.Ordinal) && p.Contains("CS0103", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.Contains("README.md(61,", StringComparison.Ordinal));
    }

    [Fact]
    public void EveryPageScriptInTheReadmeTypeChecks()
    {
        var scripts = Readme.Blocks().Select(PageScript.From).OfType<PageScript>().ToList();
        Assert.True(scripts.Count > 0, "README.md has no page script (```html with an inline <script>, ```js or ```javascript): the extraction is broken, so nothing was checked");

        var problems = scripts.SelectMany(s => s.UndeclaredIds()).ToList();
        problems.AddRange(TypeCheck(scripts));
        foreach (var script in scripts)
        {
            output.WriteLine($"README.md line {script.Block.FirstLine} ({script.Block.Language}): checked");
        }

        Assert.True(problems.Count == 0, "README.md's page scripts do not type-check against vizhtml.d.ts:\n  " + string.Join("\n  ", problems));
    }

    [Fact]
    public void TheScriptCheckRejectsAPageThatUsesUndeclaredNames()
    {
        // The page as it stood before the README was checked: button, draw and n are declared nowhere.
        var broken = PageScript.From(new Readme.Block("html", null, 131, """
            <script src="vizhtml.js"></script>
            <script>
              var socket = new viz.WebSocket();
              socket.onevent('pose', function (e) { draw(e.data.x, e.data.y, e.data.z); });
              button.onclick = function () { socket.send('button_click', viz.Data({ count: ++n })); };
              document.getElementById('status').textContent = 'connected';
            </script>
            """))!;

        var problems = broken.UndeclaredIds().Concat(TypeCheck([broken])).ToList();

        Assert.Contains(problems, p => p.StartsWith("README.md(134,", StringComparison.Ordinal) && p.Contains("'draw'", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.StartsWith("README.md(135,", StringComparison.Ordinal) && p.Contains("'button'", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.StartsWith("README.md(135,", StringComparison.Ordinal) && p.Contains("'n'", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.StartsWith("README.md(136,", StringComparison.Ordinal) && p.Contains("'status'", StringComparison.Ordinal));
    }

    /// <summary>The block's errors and warnings (those not allowed), each as <c>README.md(line,column): ...</c>.</summary>
    private static List<string> CompileCSharp(Readme.Block block)
    {
        var kind = block.Marker?.Split(';')[0].Trim() ?? "program";
        var givens = Regex.Match(block.Marker ?? "", @"given:\s*(.+)$").Groups[1].Value
            .Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var unknown = givens.Where(g => !Givens.ContainsKey(g)).ToList();
        if (unknown.Count > 0 || kind is not ("program" or "web" or "fragment") || (givens.Length > 0 && kind != "fragment"))
        {
            return [$"README.md({block.FirstLine - 1},1): unknown snippet marker '{block.Marker}' (see ReadmeSnippetTests' remarks)"];
        }

        // #line maps every diagnostic in the block to README.md's own line numbers.
        var mapped = $"#line {block.FirstLine.ToString(CultureInfo.InvariantCulture)} \"README.md\"\n{block.Code}\n#line default\n";
        var source = kind != "fragment" ? mapped : $$"""
            using VizHtml;

            internal sealed class Snippet
            {
            {{string.Join('\n', givens.Select(g => Givens[g]))}}

                private async Task RunAsync(VizHtmlServer server, CancellationToken cancellationToken)
                {
            {{mapped}}
                }
            }
            """;
        var usings = kind == "web" ? ImplicitUsings.Console + ImplicitUsings.Web : ImplicitUsings.Console;
        var parse = new CSharpParseOptions(LanguageVersion.Latest);
        var compilation = CSharpCompilation.Create(
            "ReadmeSnippet",
            [CSharpSyntaxTree.ParseText(usings, parse, "ImplicitUsings.g.cs"), CSharpSyntaxTree.ParseText(source, parse, "Snippet.cs")],
            References.Value,
            new CSharpCompilationOptions(kind == "fragment" ? OutputKind.DynamicallyLinkedLibrary : OutputKind.ConsoleApplication, nullableContextOptions: NullableContextOptions.Enable));
        return compilation.GetDiagnostics()
            .Where(d => d.Severity == DiagnosticSeverity.Error || (d.Severity == DiagnosticSeverity.Warning && !AllowedWarnings.Contains(d.Id)))
            .Select(d => d.ToString())
            .ToList();
    }

    /// <summary>Runs the pinned tsc over every script; each problem as <c>README.md(line,column): ...</c>.</summary>
    /// <remarks>
    /// Twice: once over the scripts as JavaScript (every diagnostic counts), and once over the same text as TypeScript, of
    /// which only "cannot find name" counts. JavaScript checking lets an undeclared name pass on the left of an assignment
    /// (`button.onclick = ...` reads as declaring an expando `button`, visible to every file of the program, hence two
    /// programs rather than one).
    /// </remarks>
    private static List<string> TypeCheck(IReadOnlyList<PageScript> scripts)
    {
        var folder = Directory.CreateTempSubdirectory("vizhtml-readme-");
        try
        {
            var problems = new List<string>();
            foreach (var extension in new[] { ".js", ".ts" })
            {
                var files = new List<string> { Path.Combine(Readme.Root, "src", "VizHtml", "Script", "vizhtml.d.ts") };
                foreach (var script in scripts)
                {
                    var file = Path.Combine(folder.FullName, $"readme-{script.Block.FirstLine.ToString(CultureInfo.InvariantCulture)}{extension}");
                    File.WriteAllText(file, script.Text);
                    files.Add(file);
                }

                var printed = RunTsc(folder.FullName, extension, files);
                foreach (var line in printed.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
                {
                    var diagnostic = Regex.Match(line, @"readme-\d+\.[jt]s\((\d+,\d+)\): (error TS(\d+):.*)$");
                    if (!diagnostic.Success)
                    {
                        problems.Add(line);
                    }
                    else if (extension == ".js" || UndeclaredNameCodes.Contains(diagnostic.Groups[3].Value))
                    {
                        problems.Add($"README.md({diagnostic.Groups[1].Value}): {diagnostic.Groups[2].Value}");
                    }
                }
            }

            return problems.Distinct(StringComparer.Ordinal).ToList();
        }
        finally
        {
            folder.Delete(recursive: true);
        }
    }

    /// <summary>What tsc printed for <paramref name="files"/> (empty when they check).</summary>
    private static string RunTsc(string folder, string extension, List<string> files)
    {
        // Each file is one block: moduleDetection "force" keeps the blocks' globals apart (two pages may both declare
        // `socket`), while `viz` stays global as vizhtml.d.ts declares it.
        var config = new
        {
            compilerOptions = new Dictionary<string, object>
            {
                ["allowJs"] = true,
                ["checkJs"] = true,
                ["noEmit"] = true,
                ["strict"] = true,
                ["strictNullChecks"] = false,
                ["target"] = "es2022",
                ["lib"] = new[] { "es2022", "dom" },
                ["moduleDetection"] = "force",
                ["types"] = Array.Empty<string>(),
            },
            files,
        };
        var configFile = Path.Combine(folder, $"tsconfig{extension}.json");
        File.WriteAllText(configFile, System.Text.Json.JsonSerializer.Serialize(config));

        return TypeScript.Run(["-p", configFile], folder);
    }

    private static List<MetadataReference> LoadReferences()
    {
        // The shared frameworks a VizHtml program runs on (VizHtml brings ASP.NET Core's), and VizHtml.dll; nothing of
        // the test's own (xunit), so a block cannot lean on it.
        var frameworks = new[] { typeof(object), typeof(Microsoft.AspNetCore.Http.HttpContext) }
            .Select(t => Path.GetDirectoryName(t.Assembly.Location)!)
            .ToHashSet(StringComparer.Ordinal);
        var platform = ((string?)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES") ?? string.Empty)
            .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Where(f => frameworks.Contains(Path.GetDirectoryName(f)!) && IsManagedAssembly(f));
        return platform.Append(typeof(VizHtmlServer).Assembly.Location)
            .Select(f => (MetadataReference)MetadataReference.CreateFromFile(f))
            .ToList();
    }

    private static bool IsManagedAssembly(string file)
    {
        try
        {
            using var stream = File.OpenRead(file);
            using var pe = new PEReader(stream);
            return pe.HasMetadata && pe.GetMetadataReader().IsAssembly;
        }
        catch (BadImageFormatException)
        {
            return false;
        }
    }

    /// <summary>The SDK's implicit usings: Microsoft.NET.Sdk's, and what Microsoft.NET.Sdk.Web adds.</summary>
    private static class ImplicitUsings
    {
        public const string Console = """
            global using System;
            global using System.Collections.Generic;
            global using System.IO;
            global using System.Linq;
            global using System.Net.Http;
            global using System.Threading;
            global using System.Threading.Tasks;

            """;

        public const string Web = """
            global using System.Net.Http.Json;
            global using Microsoft.AspNetCore.Builder;
            global using Microsoft.AspNetCore.Hosting;
            global using Microsoft.AspNetCore.Http;
            global using Microsoft.AspNetCore.Routing;
            global using Microsoft.Extensions.Configuration;
            global using Microsoft.Extensions.DependencyInjection;
            global using Microsoft.Extensions.Hosting;
            global using Microsoft.Extensions.Logging;

            """;
    }

    /// <summary>The fenced code blocks of README.md.</summary>
    private static class Readme
    {
        private static readonly Lazy<string> RootPath = new(() =>
        {
            for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            {
                if (File.Exists(Path.Combine(dir.FullName, "VizHtml.slnx")))
                {
                    return dir.FullName;
                }
            }

            throw new InvalidOperationException($"No VizHtml.slnx above {AppContext.BaseDirectory}");
        });

        public static string Root => RootPath.Value;

        /// <summary>Each block with its language (the fence's info string), its marker and the line of its first line of code.</summary>
        public static IEnumerable<Block> Blocks()
        {
            var lines = File.ReadAllLines(Path.Combine(Root, "README.md"));
            for (var i = 0; i < lines.Length; i++)
            {
                var fence = Regex.Match(lines[i], @"^(`{3,})\s*(\S*)");
                if (!fence.Success)
                {
                    continue;
                }

                var previous = i > 0 ? Regex.Match(lines[i - 1], @"^<!--\s*snippet:\s*(.*?)\s*-->\s*$") : Match.Empty;
                var end = i + 1;
                while (end < lines.Length && !lines[end].StartsWith(fence.Groups[1].Value, StringComparison.Ordinal))
                {
                    end++;
                }

                Assert.True(end < lines.Length, $"The code block at README.md line {i + 1} is never closed");
                yield return new Block(
                    fence.Groups[2].Value.ToLowerInvariant(),
                    previous.Success ? previous.Groups[1].Value : null,
                    i + 2,
                    string.Join('\n', lines[(i + 1)..end]));
                i = end;
            }
        }

        /// <param name="FirstLine">README.md's line number (from 1) of the block's first line of code.</param>
        public sealed record Block(string Language, string? Marker, int FirstLine, string Code);
    }

    /// <summary>A block's script as TypeScript sees it: blank up to the block and outside its scripts, so lines are README's.</summary>
    private sealed record PageScript(Readme.Block Block, string Text)
    {
        public static PageScript? From(Readme.Block block)
        {
            var padding = new string('\n', block.FirstLine - 1);
            if (block.Language is "js" or "javascript")
            {
                return new PageScript(block, padding + block.Code + "\n");
            }

            if (block.Language != "html")
            {
                return null;
            }

            // Inline scripts only (a <script src=...> has no body here); everything else becomes spaces, newlines kept.
            var text = new StringBuilder(Regex.Replace(block.Code, "[^\n]", " "));
            var found = false;
            foreach (Match script in Regex.Matches(block.Code, @"<script(?![^>]*\bsrc\s*=)[^>]*>(.*?)</script>", RegexOptions.Singleline | RegexOptions.IgnoreCase))
            {
                var body = script.Groups[1];
                text.Remove(body.Index, body.Length).Insert(body.Index, body.Value);
                found = true;
            }

            return found ? new PageScript(block, padding + text + "\n") : null;
        }

        /// <summary>Ids the script looks up with getElementById that no element of the block declares.</summary>
        public IEnumerable<string> UndeclaredIds()
        {
            var declared = Regex.Matches(Block.Code, @"\bid\s*=\s*[""']([^""']+)[""']").Select(m => m.Groups[1].Value).ToHashSet(StringComparer.Ordinal);
            foreach (Match lookup in Regex.Matches(Text, @"getElementById\(\s*['""]([^'""]+)['""]\s*\)"))
            {
                if (!declared.Contains(lookup.Groups[1].Value))
                {
                    var line = Text[..lookup.Index].Count(c => c == '\n') + 1;
                    var column = lookup.Index - Text.LastIndexOf('\n', Math.Max(lookup.Index - 1, 0));
                    yield return $"README.md({line},{column}): no element in this block has id '{lookup.Groups[1].Value}'";
                }
            }
        }
    }
}
