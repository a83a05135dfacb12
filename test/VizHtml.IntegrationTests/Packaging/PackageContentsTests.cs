using System.IO.Compression;
using System.Reflection.Metadata;
using System.Reflection.PortableExecutable;
using System.Text;
using System.Text.Json;
using System.Xml.Linq;
using VizHtml.IntegrationTests.Infrastructure;

namespace VizHtml.IntegrationTests.Packaging;

/// <summary>
/// What nuget.org would show and what an app gets from the package: metadata, readme, licence, icon, XML docs for both
/// builds, Source Link in the symbols package, and no imaging library among the dependencies.
/// </summary>
[Collection(PackageTests.Name)]
public sealed class PackageContentsTests(PackageFixture package)
{
    private const string Repository = "https://github.com/vizhtml/vizhtml";

    // The Source Link custom debug information kind in a portable PDB.
    private static readonly Guid SourceLinkKind = new("CC110556-A091-4D38-9FEC-25AB9A351A6A");

    [Fact]
    public void TheNuspecNamesTheLicenceReadmeIconRepositoryAndTags()
    {
        var metadata = Nuspec().Root!.Elements().Single(e => e.Name.LocalName == "metadata");
        string Value(string name) => metadata.Elements().Single(e => e.Name.LocalName == name).Value;
        XElement Element(string name) => metadata.Elements().Single(e => e.Name.LocalName == name);

        Assert.Equal("VizHtml", Value("id"));
        Assert.Equal(package.Version, Value("version"));
        Assert.Equal("expression", (string?)Element("license").Attribute("type"));
        Assert.Equal("MIT", Value("license"));
        Assert.Equal("README.md", Value("readme"));
        Assert.Equal("icon.png", Value("icon"));
        Assert.Equal(Repository, Value("projectUrl"));
        Assert.Equal("git", (string?)Element("repository").Attribute("type"));
        Assert.Equal(Repository, (string?)Element("repository").Attribute("url"));
        Assert.Matches("^[0-9a-f]{40}$", (string?)Element("repository").Attribute("commit"));
        Assert.Contains("websocket", Value("tags").Split(' '));
        Assert.False(string.IsNullOrWhiteSpace(Value("description")));
    }

    [Fact]
    public void TheReadmeLicenceAndIconAreInThePackage()
    {
        using var zip = ZipFile.OpenRead(package.Package);
        var icon = Read(zip, "icon.png");
        Assert.Equal(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G' }, icon[..4]);
        Assert.Equal(128, (icon[16] << 24) | (icon[17] << 16) | (icon[18] << 8) | icon[19]); // IHDR width
        Assert.Contains("MIT License", Encoding.UTF8.GetString(Read(zip, "LICENSE")), StringComparison.Ordinal);
        Assert.NotNull(zip.GetEntry("licenses/jquery-LICENSE.txt"));
    }

    /// <summary>
    /// The package's readme is its own (nuget.org resolves no relative link), but its program and page are the repository
    /// README's "Use it" ones, which PackageInstallTests runs: one can't change without the other.
    /// </summary>
    [Fact]
    public void ThePackageReadmeHasTheRepositoryReadmesProgramAndPageAndOnlyAbsoluteLinks()
    {
        using var zip = ZipFile.OpenRead(package.Package);
        var readme = Encoding.UTF8.GetString(Read(zip, "README.md"));
        var repository = ReadmeUseIt.Read(File.ReadAllText(Path.Combine(RepositoryBuild.Root, "README.md")));

        Assert.Equal(repository, ReadmeUseIt.Read(readme));
        Assert.Contains("dotnet add package VizHtml", readme, StringComparison.Ordinal);
        foreach (var link in System.Text.RegularExpressions.Regex.Matches(readme, @"\]\((?<url>[^)]*)\)").Select(m => m.Groups["url"].Value))
        {
            Assert.StartsWith(Repository + "/", link, StringComparison.Ordinal);
        }
    }

    [Theory]
    [InlineData("net10.0")]
    [InlineData("netstandard2.0")]
    public void EachBuildHasItsAssemblyAndXmlDocs(string framework)
    {
        using var zip = ZipFile.OpenRead(package.Package);
        Assert.NotNull(zip.GetEntry($"lib/{framework}/VizHtml.dll"));
        var docs = XDocument.Parse(Encoding.UTF8.GetString(Read(zip, $"lib/{framework}/VizHtml.xml")));
        var members = docs.Descendants("member").Select(m => (string?)m.Attribute("name")).ToList();
        Assert.Contains("T:VizHtml.VizHtmlServer", members);
        Assert.Contains("T:VizHtml.VizQrCode", members);
    }

    /// <summary>
    /// QRCoder pulled System.Drawing.Common (5.0.3 for .NET Standard 2.0, 6.0.0 for .NET 10) into every app; the QR codes
    /// are VizHtml's own now. The .NET 10 build needs nothing but ASP.NET Core's shared framework.
    /// </summary>
    [Fact]
    public void NoDependencyGroupHasAnImagingLibrary()
    {
        var groups = Nuspec().Descendants().Where(e => e.Name.LocalName == "dependencies").Elements().ToList();
        Assert.Equal(["net10.0", ".NETStandard2.0"], groups.Select(g => (string?)g.Attribute("targetFramework")));
        foreach (var group in groups)
        {
            var ids = group.Elements().Select(d => (string?)d.Attribute("id")).ToList();
            Assert.DoesNotContain("System.Drawing.Common", ids);
            Assert.DoesNotContain("QRCoder", ids);
        }

        Assert.Empty(groups[0].Elements());
        var frameworks = Nuspec().Descendants().Where(e => e.Name.LocalName == "frameworkReference").Select(e => (string?)e.Attribute("name"));
        Assert.Equal(["Microsoft.AspNetCore.App"], frameworks);
    }

    /// <summary>The .snupkg holds both builds' portable PDBs, whose Source Link maps the sources to the repository at a commit.</summary>
    [Theory]
    [InlineData("net10.0")]
    [InlineData("netstandard2.0")]
    public void TheSymbolPackageHasEachBuildsPdbWithSourceLinkToTheRepository(string framework)
    {
        Assert.True(File.Exists(package.SymbolPackage), $"{package.SymbolPackage} is missing");
        using var zip = ZipFile.OpenRead(package.SymbolPackage);
        using var pdb = new MemoryStream(Read(zip, $"lib/{framework}/VizHtml.pdb"));
        using var provider = MetadataReaderProvider.FromPortablePdbStream(pdb);
        var reader = provider.GetMetadataReader();
        var sourceLink = reader.CustomDebugInformation
            .Select(reader.GetCustomDebugInformation)
            .Single(c => reader.GetGuid(c.Kind) == SourceLinkKind);
        using var json = JsonDocument.Parse(reader.GetBlobBytes(sourceLink.Value));
        var documents = json.RootElement.GetProperty("documents").EnumerateObject().Single();
        Assert.Matches(@"^https://raw\.githubusercontent\.com/vizhtml/vizhtml/[0-9a-f]{40}/\*$", documents.Value.GetString());

        // In CI (ContinuousIntegrationBuild) the PDB names no path of the build machine.
        var ci = string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase);
        Assert.Equal(ci ? "/_/*" : RepositoryBuild.Root + "/*", documents.Name);

        // The assembly in the package is the one these symbols belong to.
        using var packageZip = ZipFile.OpenRead(package.Package);
        using var pe = new PEReader(new MemoryStream(Read(packageZip, $"lib/{framework}/VizHtml.dll")));
        var codeView = pe.ReadDebugDirectory().Single(d => d.Type == DebugDirectoryEntryType.CodeView);
        Assert.Equal(new BlobContentId(reader.DebugMetadataHeader!.Id).Guid, pe.ReadCodeViewDebugDirectoryData(codeView).Guid);
    }

    private XDocument Nuspec()
    {
        using var zip = ZipFile.OpenRead(package.Package);
        return XDocument.Load(new MemoryStream(Read(zip, "VizHtml.nuspec"))); // the stream, so the BOM is read as one
    }

    private static byte[] Read(ZipArchive zip, string name)
    {
        var entry = zip.GetEntry(name);
        Assert.True(entry is not null, $"The package has no {name}: {string.Join(", ", zip.Entries.Select(e => e.FullName))}");
        using var stream = entry.Open();
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return copy.ToArray();
    }
}
