using System.Collections.Immutable;
using System.Formats.Tar;
using System.IO.Compression;
using System.Reflection.Metadata;
using System.Reflection.PortableExecutable;
using System.Text.Json.Nodes;
using System.Xml.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using VizHtml.UnityPackager;

namespace VizHtml.Tests.Unity;

/// <summary>Builds the Unity package once (as scripts/unity-package.sh does) into a temporary folder.</summary>
public sealed class UnityPackageFixture : IAsyncLifetime
{
    private readonly string _output = Path.Combine(Path.GetTempPath(), "vizhtml-unity-" + Guid.NewGuid().ToString("N"));

    public UnityPackage Package { get; private set; } = null!;

    public async Task InitializeAsync() => Package = await Packager.BuildAsync(_output, TextWriter.Null);

    public Task DisposeAsync()
    {
        Directory.Delete(_output, recursive: true);
        return Task.CompletedTask;
    }
}

/// <summary>
/// What a Unity project needs is in the package: the manifest, the scripts and their assembly definition, every DLL they
/// load, a stable .meta for each file, link.xml, the sample, and a tarball of it all. No Unity runs here: the scripts are
/// compiled against VizHtml's .NET Standard build and a stub that declares only the UnityEngine members they use.
/// </summary>
public sealed class UnityPackageTests(UnityPackageFixture fixture) : IClassFixture<UnityPackageFixture>
{
    private string Folder => fixture.Package.Folder;

    private string Plugins => Path.Combine(Folder, "Runtime", "Plugins");

    [Fact]
    public void TheManifestNamesThePackageItsUnityVersionAndItsSample()
    {
        var manifest = JsonNode.Parse(File.ReadAllText(Path.Combine(Folder, "package.json")))!;
        Assert.Equal(Packager.PackageName, manifest["name"]!.GetValue<string>());
        Assert.Matches(@"^\d+\.\d+\.\d+$", manifest["version"]!.GetValue<string>());
        Assert.Matches(@"^\d{4}\.\d$", manifest["unity"]!.GetValue<string>());
        var sample = manifest["samples"]![0]!["path"]!.GetValue<string>();
        Assert.True(File.Exists(Path.Combine(Folder, sample, "panel.html")));
        Assert.True(File.Exists(Path.Combine(Folder, sample, "ControlPanel.cs")));
    }

    [Fact]
    public void TheAssemblyDefinitionReferencesExactlyThePluginsItShips()
    {
        var definition = JsonNode.Parse(File.ReadAllText(Path.Combine(Folder, "Runtime", "VizHtml.Unity.asmdef")))!;
        Assert.True(definition["overrideReferences"]!.GetValue<bool>());
        var referenced = definition["precompiledReferences"]!.AsArray().Select(n => n!.GetValue<string>()).Order(StringComparer.Ordinal);
        var shipped = Directory.EnumerateFiles(Plugins, "*.dll").Select(Path.GetFileName).Order(StringComparer.Ordinal);
        Assert.Equal(shipped, referenced);
        Assert.Contains("VizHtml.dll", referenced);
        Assert.Contains("System.Text.Json.dll", referenced);
    }

    /// <summary>The banner's QR code is VizHtml's own (VizQrCode): neither QRCoder nor the System.Drawing.Common it pulled in ships.</summary>
    [Fact]
    public void NoImagingLibraryShipsForTheBannersQrCode()
    {
        var shipped = Directory.EnumerateFiles(Plugins, "*.dll").Select(Path.GetFileName).ToList();
        Assert.Contains("VizHtml.dll", shipped);
        Assert.DoesNotContain("System.Drawing.Common.dll", shipped);
        Assert.DoesNotContain("QRCoder.dll", shipped);
    }

    /// <summary>Every assembly a plugin references is another plugin or part of .NET Standard 2.0, which Unity provides.</summary>
    [Fact]
    public void EveryAssemblyThePluginsLoadIsShippedOrPartOfDotNetStandard()
    {
        var shipped = Directory.EnumerateFiles(Plugins, "*.dll").Select(Path.GetFileNameWithoutExtension).ToHashSet(StringComparer.Ordinal);
        var standard = NetStandardReferences().Select(Path.GetFileNameWithoutExtension).ToHashSet(StringComparer.Ordinal);
        var missing = new List<string>();
        foreach (var dll in Directory.EnumerateFiles(Plugins, "*.dll"))
        {
            using var pe = new PEReader(File.OpenRead(dll));
            var metadata = pe.GetMetadataReader();
            foreach (var handle in metadata.AssemblyReferences)
            {
                var name = metadata.GetString(metadata.GetAssemblyReference(handle).Name);
                if (!shipped.Contains(name) && !standard.Contains(name))
                {
                    missing.Add($"{Path.GetFileName(dll)} needs {name}");
                }
            }

            // A plugin built for .NET Standard (or the .NET Framework profile Unity's Mono also runs), never for .NET Core.
            Assert.DoesNotContain(metadata.AssemblyReferences, h => metadata.GetString(metadata.GetAssemblyReference(h).Name) == "System.Runtime" && Path.GetFileName(dll) == "VizHtml.dll");
        }

        Assert.True(missing.Count == 0, string.Join('\n', missing));
    }

    [Fact]
    public void EveryFileAndFolderUnityImportsHasAMetaWithItsOwnStableGuid()
    {
        var entries = Directory.EnumerateFileSystemEntries(Folder, "*", SearchOption.AllDirectories)
            .Select(e => Path.GetRelativePath(Folder, e).Replace('\\', '/'))
            .Where(e => !e.EndsWith(".meta", StringComparison.Ordinal) && !e.Split('/').Any(p => p.EndsWith('~')))
            .ToList();
        Assert.NotEmpty(entries);
        var guids = new HashSet<string>(StringComparer.Ordinal);
        foreach (var entry in entries)
        {
            var meta = Path.Combine(Folder, entry + ".meta");
            Assert.True(File.Exists(meta), $"{entry} has no .meta");
            var guid = File.ReadLines(meta).Single(l => l.StartsWith("guid: ", StringComparison.Ordinal))["guid: ".Length..];
            Assert.Equal(Packager.GuidFor(entry), guid);
            Assert.True(guids.Add(guid), $"{entry}: GUID {guid} used twice");
            if (entry.EndsWith(".dll", StringComparison.Ordinal))
            {
                Assert.Contains("PluginImporter:", File.ReadAllText(meta), StringComparison.Ordinal);
            }
        }
    }

    [Fact]
    public void LinkXmlKeepsVizHtmlAndTheJsonSerializerFromIl2CppStripping()
    {
        var linker = XDocument.Load(Path.Combine(Folder, "Runtime", "link.xml")).Root!;
        var kept = linker.Elements("assembly").Where(a => (string?)a.Attribute("preserve") == "all").Select(a => (string?)a.Attribute("fullname")).ToList();
        Assert.Contains("VizHtml", kept);
        Assert.Contains("System.Text.Json", kept);
    }

    [Fact]
    public async Task TheTarballHoldsThePackageInNpmsLayout()
    {
        var names = new List<string>();
        await using (var file = File.OpenRead(fixture.Package.Tarball))
        await using (var gzip = new GZipStream(file, CompressionMode.Decompress))
        {
            using var tar = new TarReader(gzip);
            while (await tar.GetNextEntryAsync() is { } entry)
            {
                names.Add(entry.Name);
            }
        }

        var files = Directory.EnumerateFiles(Folder, "*", SearchOption.AllDirectories).Select(f => "package/" + Path.GetRelativePath(Folder, f).Replace('\\', '/')).Order(StringComparer.Ordinal);
        Assert.Equal(files, names.Order(StringComparer.Ordinal));
        Assert.Contains("package/package.json", names);
        Assert.Contains("package/jquery-LICENSE.txt", names);
    }

    /// <summary>The component, its logger, the banner and the sample compile against the shipped DLLs (and a UnityEngine stub).</summary>
    [Fact]
    public void TheScriptsCompileAgainstThePluginsAndTheUnityEngineMembersTheyUse()
    {
        var parse = new CSharpParseOptions(LanguageVersion.CSharp9);
        var engine = CSharpCompilation.Create(
            "UnityEngine",
            [CSharpSyntaxTree.ParseText(UnityEngineStub, parse)],
            NetStandardReferences().Select(r => MetadataReference.CreateFromFile(r)),
            new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary));
        var scripts = Directory.EnumerateFiles(Folder, "*.cs", SearchOption.AllDirectories)
            .Select(f => CSharpSyntaxTree.ParseText(File.ReadAllText(f), parse, f))
            .ToList();
        Assert.Equal(4, scripts.Count);
        var compilation = CSharpCompilation.Create(
            "VizHtml.Unity",
            scripts,
            NetStandardReferences().Select(r => (MetadataReference)MetadataReference.CreateFromFile(r))
                .Concat(Directory.EnumerateFiles(Plugins, "*.dll").Select(d => MetadataReference.CreateFromFile(d)))
                .Append(engine.ToMetadataReference()),
            new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary));

        var errors = engine.GetDiagnostics().Concat(compilation.GetDiagnostics()).Where(d => d.Severity == DiagnosticSeverity.Error).Select(d => d.ToString()).ToList();
        Assert.True(errors.Count == 0, string.Join('\n', errors));
    }

    /// <summary>The .NET Standard 2.0 reference assemblies (what every Unity profile provides), from the NuGet cache.</summary>
    private static ImmutableArray<string> NetStandardReferences()
    {
        var packages = Environment.GetEnvironmentVariable("NUGET_PACKAGES") ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
        var folder = Path.Combine(packages, "netstandard.library", "2.0.3", "build", "netstandard2.0", "ref");
        Assert.True(Directory.Exists(folder), $"{folder} is missing (the package build restores NETStandard.Library 2.0.3)");
        return [.. Directory.EnumerateFiles(folder, "*.dll")];
    }

    // Only the members the scripts use, with Unity's names and shapes (docs.unity3d.com); not Unity itself.
    private const string UnityEngineStub = """
        namespace UnityEngine
        {
            public class Object { public static bool operator ==(Object a, Object b) => ReferenceEquals(a, b); public static bool operator !=(Object a, Object b) => !ReferenceEquals(a, b); public override bool Equals(object o) => ReferenceEquals(this, o); public override int GetHashCode() => 0; }
            public class Component : Object { public T GetComponent<T>() => default; public Transform transform => null; }
            public class Behaviour : Component { public bool enabled { get; set; } }
            public class MonoBehaviour : Behaviour { }
            public class Transform : Component { public void Rotate(float x, float y, float z) { } }
            public class TextAsset : Object { public string text => ""; }
            public static class Debug { public static void Log(object message) { } public static void LogWarning(object message) { } public static void LogError(object message) { } }
            public static class Time { public static float deltaTime => 0; public static float smoothDeltaTime => 0; public static float time => 0; }
            public static class Mathf { public static float Round(float f) => f; }
            [System.AttributeUsage(System.AttributeTargets.Field)] public sealed class SerializeField : System.Attribute { }
            [System.AttributeUsage(System.AttributeTargets.Field)] public sealed class TooltipAttribute : System.Attribute { public TooltipAttribute(string tooltip) { } }
            [System.AttributeUsage(System.AttributeTargets.Class)] public sealed class DisallowMultipleComponent : System.Attribute { }
            [System.AttributeUsage(System.AttributeTargets.Class, AllowMultiple = true)] public sealed class RequireComponent : System.Attribute { public RequireComponent(System.Type type) { } }
        }
        """;
}
