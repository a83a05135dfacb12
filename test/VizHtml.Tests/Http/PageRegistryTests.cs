using VizHtml.Hosting;
using VizHtml.Http;

namespace VizHtml.Tests.Http;

public sealed class PageRegistryTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("vizhtml-pages-").FullName;

    [Theory]
    [InlineData("websocket", "websocket")]
    [InlineData("/websocket/", "websocket")]
    [InlineData("lab/panel-2", "lab/panel-2")]
    public void NamesAreNormalized(string name, string expected) => Assert.Equal(expected, PageRegistry.NormalizeName(name));

    [Theory]
    [InlineData("a/../b")]
    [InlineData("a//b")]
    [InlineData("sp ace")]
    [InlineData("q?x")]
    [InlineData("socket")]
    [InlineData("vizhtml.js")]
    [InlineData("..")]
    public void BadNamesAreRefusedWithTheName(string name)
    {
        var ex = Assert.Throws<ArgumentException>(() => PageRegistry.NormalizeName(name));
        Assert.Contains(name, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void LongestRegisteredNameWins()
    {
        var registry = new PageRegistry();
        registry.Add(Page.FromHtml("a", "<p>a</p>", null));
        registry.Add(Page.FromHtml("a/b", "<p>ab</p>", null));

        Assert.True(registry.TryMatch("a/b/img.png", out var page, out var rest));
        Assert.Equal("a/b", page.Name);
        Assert.Equal("/img.png", rest);
        Assert.True(registry.TryMatch("a/c.png", out page, out rest));
        Assert.Equal("a", page.Name);
        Assert.Equal("/c.png", rest);
        Assert.False(registry.TryMatch("ab", out _, out _));
    }

    [Fact]
    public void RemoveAndClearForgetPages()
    {
        var registry = new PageRegistry();
        registry.Add(Page.FromHtml("x", "", null));
        registry.Add(Page.FromHtml("y", "", null));
        Assert.True(registry.Remove("x"));
        Assert.False(registry.Remove("x"));
        Assert.False(registry.TryMatch("x", out _, out _));
        registry.Clear();
        Assert.Empty(registry.All);
    }

    [Fact]
    public void ResourcesResolveInsideTheDirectoryOnly()
    {
        var pageDir = Directory.CreateDirectory(Path.Combine(_root, "page")).FullName;
        File.WriteAllText(Path.Combine(pageDir, "style.css"), "p{}");
        Directory.CreateDirectory(Path.Combine(pageDir, "img"));
        File.WriteAllText(Path.Combine(pageDir, "img", "a.svg"), "<svg/>");
        File.WriteAllText(Path.Combine(_root, "secret.txt"), "secret");
        File.CreateSymbolicLink(Path.Combine(pageDir, "link.txt"), Path.Combine(_root, "secret.txt"));

        Assert.NotNull(Resources.Resolve(pageDir, "style.css"));
        Assert.NotNull(Resources.Resolve(pageDir, "img/a.svg"));
        Assert.Null(Resources.Resolve(pageDir, "../secret.txt"));
        Assert.Null(Resources.Resolve(pageDir, "img/../../secret.txt"));
        Assert.Null(Resources.Resolve(pageDir, Path.Combine(_root, "secret.txt")));
        Assert.Null(Resources.Resolve(pageDir, "..\\secret.txt"));
        Assert.Null(Resources.Resolve(pageDir, "link.txt"));
        Assert.Null(Resources.Resolve(pageDir, "missing.css"));
        Assert.Null(Resources.Resolve(pageDir, "img"));
    }

    [Fact]
    public void FilePageNeedsAnExistingFileAndDefaultsResourcesToItsDirectory()
    {
        Assert.Throws<FileNotFoundException>(() => Page.FromFile("p", Path.Combine(_root, "nope.html"), null));
        var file = Path.Combine(_root, "p.html");
        File.WriteAllText(file, "<p>hi</p>");
        Assert.Equal(_root, Page.FromFile("p", file, null).ResourceDirectory);
    }

    public void Dispose() => Directory.Delete(_root, recursive: true);
}
