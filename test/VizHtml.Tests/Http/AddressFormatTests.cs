using System.Net;
using VizHtml.Http;

namespace VizHtml.Tests.Http;

/// <summary>One way of writing a client's address, shared by events, the sample's output and the log.</summary>
public sealed class AddressFormatTests
{
    [Theory]
    [InlineData("::ffff:127.0.0.1", "127.0.0.1")]
    [InlineData("::ffff:192.168.1.31", "192.168.1.31")]
    [InlineData("127.0.0.1", "127.0.0.1")]
    [InlineData("::1", "::1")]
    [InlineData("fe80::1", "fe80::1")]
    public void AnIpv4MappedAddressIsWrittenAsIpv4AndOthersAsThemselves(string address, string written) =>
        Assert.Equal(written, HttpEndpoint.FormatAddress(IPAddress.Parse(address)));

    [Fact]
    public void AMissingAddressIsWrittenAsUnknown() =>
        Assert.Equal("unknown", HttpEndpoint.FormatAddress(null));
}
