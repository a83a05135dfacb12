using VizHtml.Hosting.Standalone;

namespace VizHtml.Tests.Hosting.Standalone;

/// <summary>The standalone host's Range header parser (RFC 9110 14.1.2): one range or the whole file.</summary>
public sealed class ByteRangeTests
{
    [Theory]
    [InlineData("bytes=0-4", 10, 0, 4)]
    [InlineData("bytes=5-", 10, 5, 9)]
    [InlineData("bytes=-3", 10, 7, 9)]
    [InlineData("bytes=-20", 10, 0, 9)]
    [InlineData("bytes=0-100", 10, 0, 9)]
    [InlineData("bytes=9-9", 10, 9, 9)]
    [InlineData("Bytes= 2 - 3 ", 10, 2, 3)]
    [InlineData("bytes=-99999999999999999999", 10, 0, 9)]
    public void ASingleSatisfiableRangeGivesItsFirstAndLastByte(string header, long length, long start, long end)
    {
        Assert.True(ByteRange.TryParse(header, length, out var first, out var last, out var satisfiable));
        Assert.True(satisfiable);
        Assert.Equal((start, end), (first, last));
    }

    [Theory]
    [InlineData("bytes=10-", 10)]
    [InlineData("bytes=10-20", 10)]
    [InlineData("bytes=-0", 10)]
    [InlineData("bytes=0-", 0)]
    [InlineData("bytes=-5", 0)]
    public void ARangeWhollyPastTheEndIsUnsatisfiable(string header, long length)
    {
        Assert.False(ByteRange.TryParse(header, length, out _, out _, out var satisfiable));
        Assert.False(satisfiable);
    }

    [Theory]
    [InlineData("bytes=0-1,3-4")]
    [InlineData("items=0-1")]
    [InlineData("bytes=5-2")]
    [InlineData("bytes=-")]
    [InlineData("bytes=")]
    [InlineData("bytes=1")]
    [InlineData("bytes=+1-2")]
    [InlineData("bytes=-+2")]
    [InlineData("bytes=a-b")]
    [InlineData("bytes=1-2-3")]
    [InlineData("bytes=99999999999999999999-")]
    [InlineData("bytes=0-99999999999999999999")]
    public void AnythingElseIsIgnoredAndTheWholeFileIsSent(string header)
    {
        Assert.False(ByteRange.TryParse(header, 10, out _, out _, out var satisfiable));
        Assert.True(satisfiable);
    }
}
