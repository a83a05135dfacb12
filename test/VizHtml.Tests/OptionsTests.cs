namespace VizHtml.Tests;

public sealed class OptionsTests
{
    [Theory]
    [InlineData(nameof(VizHtmlOptions.Port))]
    [InlineData(nameof(VizHtmlOptions.MaxMessageBytes))]
    [InlineData(nameof(VizHtmlOptions.MaxJsonDepth))]
    [InlineData(nameof(VizHtmlOptions.CloseTimeout))]
    [InlineData(nameof(VizHtmlOptions.MaxMessageFrames))]
    [InlineData(nameof(VizHtmlOptions.MessageAssemblyTimeout))]
    [InlineData(nameof(VizHtmlOptions.MaxAssemblyBytesPerAddress))]
    [InlineData(nameof(VizHtmlOptions.MaxAssemblyBytes))]
    [InlineData(nameof(VizHtmlOptions.MaxFormBytesInFlight))]
    [InlineData(nameof(VizHtmlOptions.MaxFormBytesInFlightPerAddress))]
    [InlineData(nameof(VizHtmlOptions.FormUploadTimeout))]
    public void InvalidOptionsAreRefusedNamingTheProperty(string property)
    {
        var options = new VizHtmlOptions();
        switch (property)
        {
            case nameof(VizHtmlOptions.Port): options.Port = 70000; break;
            case nameof(VizHtmlOptions.MaxMessageBytes): options.MaxMessageBytes = 10; break;
            case nameof(VizHtmlOptions.MaxJsonDepth): options.MaxJsonDepth = 0; break;
            case nameof(VizHtmlOptions.CloseTimeout): options.CloseTimeout = TimeSpan.Zero; break;
            case nameof(VizHtmlOptions.MaxMessageFrames): options.MaxMessageFrames = 0; break;
            case nameof(VizHtmlOptions.MessageAssemblyTimeout): options.MessageAssemblyTimeout = TimeSpan.Zero; break;

            // Less than one message of the default MaxMessageBytes (16 MiB).
            case nameof(VizHtmlOptions.MaxAssemblyBytesPerAddress): options.MaxAssemblyBytesPerAddress = 16L * 1024 * 1024; break;

            // Less than the default share of one address (64 MiB).
            case nameof(VizHtmlOptions.MaxAssemblyBytes): options.MaxAssemblyBytes = 32L * 1024 * 1024; break;
            case nameof(VizHtmlOptions.MaxFormBytesInFlight): options.MaxFormBytesInFlight = 0; break;
            case nameof(VizHtmlOptions.MaxFormBytesInFlightPerAddress): options.MaxFormBytesInFlightPerAddress = 100; break;
            case nameof(VizHtmlOptions.FormUploadTimeout): options.FormUploadTimeout = TimeSpan.Zero; break;
        }

        var ex = Assert.Throws<ArgumentException>(() => new VizHtmlServer(options));
        Assert.Contains("VizHtmlOptions." + property, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void DefaultsMatchTheOriginal()
    {
        var options = new VizHtmlOptions();
        Assert.Equal(8080, options.Port);
        Assert.Null(options.BindAddress);
        Assert.Equal(VizDispatchMode.Serialized, options.Dispatch);
    }

    [Fact]
    public async Task OptionsAreCopiedWhenTheServerIsCreated()
    {
        var options = new VizHtmlOptions { Port = 0, LoggerFactory = Microsoft.Extensions.Logging.Abstractions.NullLoggerFactory.Instance };
        await using var server = new VizHtmlServer(options);
        options.Port = 1234;
        Assert.Equal(0, server.Port);
    }
}
