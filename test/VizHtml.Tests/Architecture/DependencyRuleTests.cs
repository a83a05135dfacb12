using System.Collections.Immutable;
using System.Globalization;
using System.Reflection.Metadata;
using System.Reflection.PortableExecutable;
using System.Text;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Xunit.Abstractions;

namespace VizHtml.Tests.Architecture;

/// <summary>
/// The dependency direction of src/VizHtml, checked on the code itself: Roslyn compiles every file of the library, and
/// every type a file names (through the semantic model, documentation comments left out) must be one its part may use.
/// </summary>
public sealed class DependencyRuleTests(ITestOutputHelper output)
{
    private const string Model = "model";
    private const string Facade = "facade";
    private const string AspNetCore = "ASP.NET Core";
    private const string Anything = "*";

    /// <summary>
    /// What each part of src/VizHtml may use. A part is a folder, <c>model</c> (the types declared in the files at the
    /// folder root other than the facade's), <c>facade</c> (VizHtmlServer.cs and its partial files, VizHtmlServer.*.cs) or <c>ASP.NET Core</c> (any type in a
    /// Microsoft.AspNetCore.* namespace or in Microsoft.Net.Http.Headers). An entry with a dot allows one type (and its
    /// nested types) instead of a whole part. Types from elsewhere (System.*, Microsoft.Extensions.*, QRCoder) are free.
    /// </summary>
    /// <remarks>
    /// Two rules follow from the table: only the facade and Hosting/ name <c>VizHtmlServer</c>, and only Hosting/ names
    /// ASP.NET Core; each also has a test of its own below, so a failure names the rule it breaks.
    /// </remarks>
    private static readonly Dictionary<string, string[]> MayUse = new(StringComparer.Ordinal)
    {
        //  part             may use
        ["Protocol"]    = ["Protocol", "VizHtml.VizData", "VizHtml.VizDataKind"],
        ["Connections"] = ["Connections", "Protocol", "Diagnostics", "VizHtml.VizDelivery", "VizHtml.VizDisconnectReason"],
        ["Events"]      = ["Events", "Diagnostics", Model],
        ["Sessions"]    = ["Sessions", "Connections", "Events", "Protocol", "Diagnostics", Model],
        ["Http"]        = ["Http", "Events", "Protocol", "Diagnostics", Model],
        ["Diagnostics"] = ["Diagnostics", "VizHtml.VizDelivery", "VizHtml.VizDisconnectReason"],
        ["Status"]      = ["Status", "Http", "Sessions", "Connections", "Diagnostics", Model],
        ["Security"]    = ["Security"],
        ["Compat"]      = [],
        ["NetClient"]   = ["NetClient", "Protocol", "Events", "Security", Model],
        ["Contracts"]   = ["Contracts", "Protocol", Model],
        [Model]         = [Model, "Sessions", "Connections", "Protocol", "Events", "Http", "Diagnostics", "Contracts"],
        [Facade]        = [Facade, Model, "Protocol", "Connections", "Sessions", "Events", "Http", "Security", "NetClient", "Diagnostics", "Status", "Contracts", "VizHtml.Hosting.IServerHost", "VizHtml.Hosting.Kestrel.EmbeddedHost", "VizHtml.Hosting.Standalone.StandaloneHost"],
        ["Hosting"]     = [Anything],
    };

    /// <summary>
    /// Uses that break the table today, each with why it stays for now. The rule test fails on any other violation, and
    /// on an entry here that no longer occurs (so the list never outlives the code it excuses).
    /// </summary>
    private static readonly KnownException[] KnownExceptions =
    [
    ];

    private static readonly Lazy<(CSharpCompilation Compilation, Analysis Analysis)> Library = new(() =>
    {
        var compilation = Analysis.CompileLibrary();
        return (compilation, Analysis.Of(compilation));
    });

    [Fact]
    public void EveryPartUsesOnlyWhatItsRowAllows()
    {
        var analysis = Library.Value.Analysis;
        Assert.True(analysis.Unresolved.Count == 0, "Names the compiler could not bind here, so their uses cannot be checked:\n" + string.Join('\n', analysis.Unresolved.Take(20)));
        foreach (var part in analysis.Files.Select(f => f.Part).Distinct().Order(StringComparer.Ordinal))
        {
            // What each part uses today, beyond itself: the facts the table was drawn from.
            var used = analysis.Uses.Where(u => u.FromPart == part && u.Type.Part is { } p && p != part)
                .Select(u => u.Type.Part == Model ? u.Type.Key : u.Type.Part!).Distinct().Order(StringComparer.Ordinal);
            output.WriteLine($"{part} uses: {string.Join(", ", used)}");
        }

        var violations = analysis.Violations().ToList();
        var unexpected = new List<Violation>();
        foreach (var violation in violations)
        {
            var known = KnownExceptions.FirstOrDefault(k => k.Matches(violation));
            output.WriteLine(known is null ? violation.ToString() : $"{violation} [known exception: {known.Reason}]");
            if (known is null)
            {
                unexpected.Add(violation);
            }
        }

        var stale = KnownExceptions.Where(k => !violations.Any(k.Matches)).ToList();
        Assert.True(unexpected.Count == 0, "Dependency rule broken:\n" + string.Join('\n', unexpected));
        Assert.True(stale.Count == 0, "Known exceptions that no longer occur (remove them):\n" + string.Join('\n', stale.Select(s => $"{s.File}: {s.Type}")));
    }

    [Fact]
    public void OnlyTheFacadeAndHostingNameVizHtmlServer()
    {
        var offenders = Library.Value.Analysis.Uses
            .Where(u => u.Type.Key == "VizHtml.VizHtmlServer" && u.FromPart is not (Facade or "Hosting"))
            .Select(u => $"{u.File}: uses {u.Type.Key} (folder {u.FromPart} may not)")
            .Distinct()
            .ToList();
        Assert.True(offenders.Count == 0, string.Join('\n', offenders));
    }

    /// <summary>Only the Kestrel host and the ASP.NET Core integration name ASP.NET Core: the rest builds for .NET Standard too.</summary>
    [Fact]
    public void OnlyTheKestrelHostsNameAspNetCore()
    {
        var offenders = Library.Value.Analysis.Uses
            .Where(u => u.Type.Part == AspNetCore && !IsKestrelHost(u.File))
            .Select(u => $"{u.File}: uses {u.Type.Key} (folder {u.FromPart} may not)")
            .Distinct()
            .ToList();
        Assert.True(offenders.Count == 0, string.Join('\n', offenders));
    }

    [Fact]
    public void EveryPartOfTheLibraryHasARow()
    {
        var parts = Library.Value.Analysis.Uses.Select(u => u.FromPart).Distinct().ToList();
        Assert.NotEmpty(parts);
        Assert.All(parts, part => Assert.True(MayUse.ContainsKey(part), $"src/VizHtml/{part} has no row in the dependency table"));
    }

    /// <summary>The rule can fail: a file added to a part, compiled with the library, is caught using what its part may not.</summary>
    [Theory]
    [InlineData("Connections/FakeUsesClient.cs", "namespace VizHtml.Connections; internal static class FakeUsesClient { public static string Id(VizClient c) => c.Id; }", "Connections/FakeUsesClient.cs: uses VizHtml.VizClient (folder Connections may not)")]
    [InlineData("Connections/FakeUsesClientMember.cs", "namespace VizHtml.Connections; internal static class FakeUsesClientMember { public static string Name => nameof(VizClient.Id); }", "Connections/FakeUsesClientMember.cs: uses VizHtml.VizClient (folder Connections may not)")]
    [InlineData("Events/FakeUsesServer.cs", "namespace VizHtml.Events; internal static class FakeUsesServer { public static int Port(VizHtmlServer s) => s.Port; }", "Events/FakeUsesServer.cs: uses VizHtml.VizHtmlServer (folder Events may not)")]
    [InlineData("Http/FakeUsesKestrel.cs", "namespace VizHtml.Http; internal static class FakeUsesKestrel { public static string Path(object o) => ((Microsoft.AspNetCore.Http.HttpContext)o).Request.Path.Value ?? \"\"; }", "Http/FakeUsesKestrel.cs: uses Microsoft.AspNetCore.Http.HttpContext (folder Http may not)")]
    [InlineData("FakeModel.cs", "namespace VizHtml; internal static class FakeModel { public static int Port() { var s = default(VizHtmlServer); return s!.Port; } }", "FakeModel.cs: uses VizHtml.VizHtmlServer (folder model may not)")]
    [InlineData("Protocol/FakeUsesSessions.cs", "namespace VizHtml.Protocol; internal static class FakeUsesSessions { public static object Store() => new VizHtml.Sessions.InMemorySessionStore(1, 1); }", "Protocol/FakeUsesSessions.cs: uses VizHtml.Sessions.InMemorySessionStore (folder Protocol may not)")]
    public void AFileThatBreaksTheRuleIsCaught(string relativePath, string source, string expected)
    {
        var fake = CSharpSyntaxTree.ParseText(source, Analysis.ParseOptions, Path.Combine(Analysis.SourceRoot, relativePath), Encoding.UTF8);
        var compilation = Library.Value.Compilation.AddSyntaxTrees(fake);
        Assert.Empty(compilation.GetSemanticModel(fake).GetDiagnostics().Where(d => d.Severity == DiagnosticSeverity.Error));

        var violations = Analysis.Of(compilation, [fake]).Violations().Select(v => v.ToString()).ToList();
        foreach (var violation in violations)
        {
            output.WriteLine(violation);
        }

        Assert.Contains(expected, violations);
    }

    /// <summary>Prints how much of src/VizHtml depends on ASP.NET Core: the lines of every file that names one of its types.</summary>
    [Fact]
    public void PrintsTheLinesThatDependOnAspNetCore()
    {
        var analysis = Library.Value.Analysis;
        var total = analysis.Files.Sum(f => f.Lines);
        var dependent = analysis.Files
            .Select(f => (f.Path, f.Lines, Naming: analysis.Uses.Where(u => u.File == f.Path && u.Type.Part == AspNetCore).Select(u => u.Line).Distinct().Count()))
            .Where(f => f.Naming > 0)
            .OrderBy(f => f.Path, StringComparer.Ordinal)
            .ToList();

        output.WriteLine("| file | lines | lines naming an ASP.NET Core type |");
        output.WriteLine("| --- | ---: | ---: |");
        foreach (var (path, lines, naming) in dependent)
        {
            output.WriteLine($"| {path} | {lines} | {naming} |");
        }

        var dependentLines = dependent.Sum(f => f.Lines);
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| **{dependent.Count} of {analysis.Files.Count} files** | **{dependentLines} of {total} lines ({100.0 * dependentLines / total:F1} %)** | **{dependent.Sum(f => f.Naming)}** |"));

        // Beyond those namespaces, the shared framework also carries Microsoft.Extensions.* (logging, DI, hosting), which
        // also ship as standalone packages: which files use which of its assemblies, for a host without ASP.NET Core.
        output.WriteLine(string.Empty);
        output.WriteLine("| assembly of the Microsoft.AspNetCore.App shared framework | files outside Hosting/ that use it |");
        output.WriteLine("| --- | --- |");
        foreach (var assembly in analysis.Uses.Select(u => u.Type.AspNetCoreFrameworkAssembly).OfType<string>().Distinct().Order(StringComparer.Ordinal))
        {
            var users = analysis.Uses.Where(u => u.Type.AspNetCoreFrameworkAssembly == assembly && u.FromPart != "Hosting").Select(u => u.File).Distinct().Order(StringComparer.Ordinal).ToList();
            output.WriteLine($"| {assembly} | {(users.Count == 0 ? "(Hosting/ only)" : $"{users.Count}: {string.Join(", ", users)}")} |");
        }

        Assert.NotEmpty(dependent);
        Assert.All(dependent, f => Assert.True(IsKestrelHost(f.Path), f.Path));
    }

    private static bool IsKestrelHost(string file) =>
        file.StartsWith("Hosting/Kestrel/", StringComparison.Ordinal) || file.StartsWith("Hosting/AspNetCore/", StringComparison.Ordinal);

    private sealed record KnownException(string File, string Type, string Reason)
    {
        public bool Matches(Violation v) => v.File == File && v.Type == Type;
    }

    private sealed record Violation(string File, string Type, string Part)
    {
        public override string ToString() => $"{File}: uses {Type} (folder {Part} may not)";
    }

    /// <summary>
    /// A type that code names, with the part it belongs to (null: outside VizHtml and free to use) and, for a type that
    /// comes from ASP.NET Core's shared framework (Microsoft.AspNetCore.App), its assembly.
    /// </summary>
    private sealed record UsedType(string Key, string? Part, string? AspNetCoreFrameworkAssembly);

    private sealed record Use(string File, string FromPart, UsedType Type, int Line);

    private sealed record SourceFile(string Path, string Part, int Lines);

    private sealed class Analysis
    {
        /// <summary>The .NET 10 build's view of the sources (its <c>#if NET</c> branches).</summary>
        public static readonly CSharpParseOptions ParseOptions = new(LanguageVersion.Latest, DocumentationMode.Parse, preprocessorSymbols: ["NET", "NET10_0", "NET10_0_OR_GREATER", "NET9_0_OR_GREATER", "NET8_0_OR_GREATER", "NETCOREAPP"]);

        private static readonly Lazy<string> Root = new(FindRepositoryRoot);

        private Analysis(IReadOnlyList<SourceFile> files, IReadOnlyList<Use> uses, IReadOnlyList<string> unresolved)
        {
            Files = files;
            Uses = uses;
            Unresolved = unresolved;
        }

        public static string SourceRoot => Path.Combine(Root.Value, "src", "VizHtml");

        public IReadOnlyList<SourceFile> Files { get; }

        public IReadOnlyList<Use> Uses { get; }

        /// <summary>Names the semantic model could not bind (a reference missing here): each would hide a use.</summary>
        public IReadOnlyList<string> Unresolved { get; }

        public IEnumerable<Violation> Violations() => Uses
            .Where(u => u.Type.Part is not null && !Allowed(u.FromPart, u.Type))
            .Select(u => new Violation(u.File, u.Type.Key, u.FromPart))
            .Distinct()
            .OrderBy(v => v.File, StringComparer.Ordinal)
            .ThenBy(v => v.Type, StringComparer.Ordinal);

        private static bool Allowed(string fromPart, UsedType type)
        {
            // Compat/ stands in for .NET's own types (in their namespaces): as free to use as System.* itself.
            var row = MayUse.TryGetValue(fromPart, out var allowed) ? allowed : [];
            return type.Part == "Compat" || row.Contains(Anything) || row.Contains(type.Part) || row.Contains(type.Key);
        }

        /// <summary>
        /// Every .cs file of src/VizHtml the .NET 10 build compiles (bin/ and obj/ left out, and Compat/NetStandard/, the
        /// .NET Standard build's stand-ins for .NET types), with the implicit usings of the SDK.
        /// </summary>
        public static CSharpCompilation CompileLibrary()
        {
            var trees = Directory.EnumerateFiles(SourceRoot, "*.cs", SearchOption.AllDirectories)
                .Where(f => !IsBuildOutput(Path.GetRelativePath(SourceRoot, f)))
                .Order(StringComparer.Ordinal)
                .Select(f => CSharpSyntaxTree.ParseText(File.ReadAllText(f), ParseOptions, f, Encoding.UTF8))
                .Append(CSharpSyntaxTree.ParseText(ImplicitUsings, ParseOptions, "ImplicitUsings.g.cs", Encoding.UTF8));
            var compilation = CSharpCompilation.Create(
                "VizHtml",
                trees,
                References(),
                new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, nullableContextOptions: NullableContextOptions.Enable, allowUnsafe: true));

            // The library's source-generated JSON metadata (VizData's values) comes from System.Text.Json's generator, as in
            // the real build; the generated files are not under src/VizHtml, so they are compiled but not analysed.
            CSharpGeneratorDriver.Create(JsonSourceGenerators())
                .RunGeneratorsAndUpdateCompilation(compilation, out var generated, out _);
            compilation = (CSharpCompilation)generated;

            // Declarations here; every name inside a body is checked as it is walked (Unresolved), which costs no second binding.
            var errors = compilation.GetParseDiagnostics().Concat(compilation.GetDeclarationDiagnostics()).Where(d => d.Severity == DiagnosticSeverity.Error).Take(20).ToList();
            Assert.True(errors.Count == 0, "src/VizHtml does not compile here, so its references cannot be checked:\n" + string.Join('\n', errors));
            return compilation;
        }

        /// <summary>System.Text.Json's source generator, from the SDK's .NET reference pack beside the running runtime.</summary>
        private static ISourceGenerator[] JsonSourceGenerators()
        {
            var runtime = Path.GetDirectoryName(typeof(object).Assembly.Location)!;
            var dotnetRoot = Path.GetFullPath(Path.Combine(runtime, "..", "..", ".."));
            var generator = Directory.EnumerateFiles(Path.Combine(dotnetRoot, "packs", "Microsoft.NETCore.App.Ref"), "System.Text.Json.SourceGeneration.dll", SearchOption.AllDirectories)
                .Where(f => f.Replace('\\', '/').Contains("/analyzers/dotnet/cs/", StringComparison.Ordinal))
                .OrderByDescending(f => f, StringComparer.Ordinal)
                .FirstOrDefault();
            Assert.True(generator is not null, $"System.Text.Json's source generator was not found under {dotnetRoot}/packs");
            return [.. new Microsoft.CodeAnalysis.Diagnostics.AnalyzerFileReference(generator, new GeneratorAssemblyLoader()).GetGenerators(LanguageNames.CSharp)];
        }

        private sealed class GeneratorAssemblyLoader : Microsoft.CodeAnalysis.IAnalyzerAssemblyLoader
        {
            public void AddDependencyLocation(string fullPath)
            {
            }

            public System.Reflection.Assembly LoadFromPath(string fullPath) => System.Reflection.Assembly.LoadFrom(fullPath);
        }

        public static Analysis Of(CSharpCompilation compilation) =>
            Of(compilation, compilation.SyntaxTrees.Where(t => t.FilePath.StartsWith(SourceRoot, StringComparison.Ordinal)));

        public static Analysis Of(CSharpCompilation compilation, IEnumerable<SyntaxTree> trees)
        {
            var files = new List<SourceFile>();
            var uses = new List<Use>();
            var unresolved = new List<string>();
            foreach (var tree in trees)
            {
                var path = Relative(tree.FilePath);
                var part = PartOf(path);
                files.Add(new SourceFile(path, part, tree.GetText().Lines.Count - (tree.GetText().ToString().EndsWith('\n') ? 1 : 0)));
                var model = compilation.GetSemanticModel(tree);

                // DescendantNodes does not go into trivia: documentation comments (and their crefs) are not uses. Only nodes
                // that can stand for a symbol are asked (statements and declarations never do).
                foreach (var node in tree.GetRoot().DescendantNodes().Where(CanReferToASymbol))
                {
                    var info = model.GetSymbolInfo(node);
                    var symbols = info.Symbol is { } symbol ? ImmutableArray.Create(symbol) : info.CandidateSymbols;
                    var line = node.GetLocation().GetLineSpan().StartLinePosition.Line;
                    if (symbols.IsEmpty && node is SimpleNameSyntax name && !IsKeywordLike(name))
                    {
                        unresolved.Add($"{path}:{line + 1}: {name}");
                    }

                    foreach (var type in symbols.SelectMany(TypesNamedBy).Distinct(SymbolEqualityComparer.Default).Cast<INamedTypeSymbol>())
                    {
                        if (type.TypeKind == TypeKind.Error)
                        {
                            unresolved.Add($"{path}:{line + 1}: {type}");
                        }

                        uses.Add(new Use(path, part, Describe(compilation, type), line));
                    }
                }
            }

            return new Analysis(files, uses.Distinct().ToList(), unresolved);
        }

        /// <summary><c>nameof(...)</c> and the <c>notnull</c> and <c>unmanaged</c> constraints are names that stand for no symbol.</summary>
        private static bool IsKeywordLike(SimpleNameSyntax name) =>
            name.Identifier.ValueText == "nameof" || (name.Parent is TypeConstraintSyntax && name.Identifier.ValueText is "notnull" or "unmanaged");

        private static bool CanReferToASymbol(SyntaxNode node) =>
            node is ExpressionSyntax
                or AttributeSyntax
                or ConstructorInitializerSyntax
                or PrimaryConstructorBaseTypeSyntax;

        /// <summary>The types a reference to <paramref name="symbol"/> depends on: a type itself, or a member's declaring type.</summary>
        private static IEnumerable<INamedTypeSymbol> TypesNamedBy(ISymbol symbol) => symbol switch
        {
            IAliasSymbol alias => TypesNamedBy(alias.Target),
            ITypeSymbol type => Expand(type),
            IMethodSymbol method => Owner((method.ReducedFrom ?? method).ContainingType).Concat(method.TypeArguments.SelectMany(Expand)),
            IPropertySymbol or IFieldSymbol or IEventSymbol => Owner(symbol.ContainingType),
            _ => [],
        };

        private static IEnumerable<INamedTypeSymbol> Owner(INamedTypeSymbol? type) => type is null ? [] : Expand(type);

        private static IEnumerable<INamedTypeSymbol> Expand(ITypeSymbol type) => type switch
        {
            IArrayTypeSymbol array => Expand(array.ElementType),
            IPointerTypeSymbol pointer => Expand(pointer.PointedAtType),
            INamedTypeSymbol named => [Outermost(named.OriginalDefinition), .. named.TypeArguments.SelectMany(Expand)],
            _ => [],
        };

        private static INamedTypeSymbol Outermost(INamedTypeSymbol type)
        {
            while (type.ContainingType is { } outer)
            {
                type = outer;
            }

            return type;
        }

        private static UsedType Describe(Compilation compilation, INamedTypeSymbol type)
        {
            var ns = type.ContainingNamespace.IsGlobalNamespace ? string.Empty : type.ContainingNamespace.ToDisplayString();
            var key = ns.Length == 0 ? type.Name : $"{ns}.{type.Name}";
            if (type.DeclaringSyntaxReferences.FirstOrDefault() is { } declaration && declaration.SyntaxTree.FilePath.StartsWith(SourceRoot, StringComparison.Ordinal))
            {
                return new UsedType(key, PartOf(Relative(declaration.SyntaxTree.FilePath)), null);
            }

            var aspNetCore = ns.StartsWith("Microsoft.AspNetCore", StringComparison.Ordinal) || ns.StartsWith("Microsoft.Net.Http.Headers", StringComparison.Ordinal);
            var file = type.ContainingAssembly is { } assembly && compilation.GetMetadataReference(assembly) is PortableExecutableReference { FilePath: { } path } ? path : null;
            var sharedFramework = file is not null && file.Replace('\\', '/').Contains("/Microsoft.AspNetCore.App/", StringComparison.Ordinal)
                ? type.ContainingAssembly!.Name
                : null;
            return new UsedType(key, aspNetCore ? AspNetCore : null, sharedFramework);
        }

        private static string Relative(string path) => Path.GetRelativePath(SourceRoot, path).Replace('\\', '/');

        private static string PartOf(string relativePath)
        {
            var slash = relativePath.IndexOf('/', StringComparison.Ordinal);
            // The facade is one class, VizHtmlServer, in VizHtmlServer.cs and its partial files (VizHtmlServer.Contracts.cs).
            var isFacade = relativePath == "VizHtmlServer.cs" || (relativePath.StartsWith("VizHtmlServer.", StringComparison.Ordinal) && relativePath.EndsWith(".cs", StringComparison.Ordinal));
            return slash >= 0 ? relativePath[..slash] : isFacade ? Facade : Model;
        }

        private static bool IsBuildOutput(string relativePath)
        {
            var path = relativePath.Replace('\\', '/');
            var first = path.Split('/')[0];
            return first is "bin" or "obj" || path.StartsWith("Compat/NetStandard/", StringComparison.Ordinal);
        }

        private static string FindRepositoryRoot()
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

        /// <summary>The platform's assemblies (ASP.NET Core's shared framework among them) and those beside VizHtml.dll (QRCoder).</summary>
        private static List<MetadataReference> References()
        {
            var platform = ((string?)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES") ?? string.Empty).Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries);
            var beside = Directory.EnumerateFiles(Path.GetDirectoryName(typeof(VizHtmlServer).Assembly.Location)!, "*.dll");
            var byName = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
            foreach (var file in platform.Concat(beside))
            {
                var name = Path.GetFileNameWithoutExtension(file);

                // The library is compiled from source here; test assemblies see its internals and would clash.
                if (!name.StartsWith("VizHtml", StringComparison.OrdinalIgnoreCase) && IsManagedAssembly(file))
                {
                    byName.TryAdd(name, file);
                }
            }

            return byName.Values.Select(f => (MetadataReference)MetadataReference.CreateFromFile(f)).ToList();
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

        private const string ImplicitUsings = """
            global using System;
            global using System.Collections.Generic;
            global using System.IO;
            global using System.Linq;
            global using System.Net.Http;
            global using System.Threading;
            global using System.Threading.Tasks;
            """;
    }
}
