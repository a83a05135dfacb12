using System.Globalization;
using VizHtml.IntegrationTests.Infrastructure;

namespace VizHtml.IntegrationTests.Mono;

/// <summary>
/// <see cref="VizDispatchMode.Manual"/> under Mono (the <c>dispatch</c> scenario): handlers run only inside
/// <see cref="VizHtmlServer.DispatchPending(int)"/>, on the thread of the loop that calls it, in the order the client sent.
/// </summary>
public sealed class MonoManualDispatchTests
{
    private const int Ticks = 30;

    [Fact]
    public async Task UnderMonoEveryHandlerRunsInsideAPumpOnTheMainThreadInSendOrder()
    {
        await using var mono = await MonoProcess.StartAsync("dispatch");
        var mainThread = (await mono.WaitForLineAsync(l => l.StartsWith("MAIN thread=", StringComparison.Ordinal)))["MAIN ".Length..];
        using var client = await RawClient.ConnectAsync(new Uri($"ws://127.0.0.1:{mono.Port}/vizhtml/socket"));

        // Before any pump: these wait in the server's queue.
        var tick = 0;
        while (tick < 10)
        {
            await client.SendAsync("tick", ++tick);
        }

        // During pumps: a loop of frames a few milliseconds apart while the client keeps sending.
        await mono.SendAsync("frames 100");
        while (tick < 20)
        {
            await client.SendAsync("tick", ++tick);
            await Task.Delay(10);
        }

        await mono.WaitForLineAsync(l => l == "DONE frames 100");

        // Between pumps, then single pumps until the last one has run.
        while (tick < Ticks)
        {
            await client.SendAsync("tick", ++tick);
        }

        var deadline = DateTime.UtcNow + TestServer.Timeout;
        for (var pump = 1; !mono.Lines.Items.Contains($"HANDLER tick {Ticks} {mainThread}") && DateTime.UtcNow < deadline; pump++)
        {
            await mono.SendAsync("pump");
            await mono.WaitForLinesAsync(l => l == "DONE pump", pump);
        }

        var lines = mono.Lines.Items;
        var handled = new List<string>();
        string? open = null;
        foreach (var line in lines)
        {
            if (line.StartsWith("PUMP BEGIN ", StringComparison.Ordinal))
            {
                Assert.Null(open);
                open = line["PUMP BEGIN ".Length..];
            }
            else if (line.StartsWith("PUMP END ", StringComparison.Ordinal))
            {
                Assert.StartsWith(open + " ", line["PUMP END ".Length..], StringComparison.Ordinal);
                open = null;
            }
            else if (line.StartsWith("HANDLER ", StringComparison.Ordinal))
            {
                Assert.True(open is not null, $"'{line}' ran outside a pump: {string.Join(" | ", lines)}");
                Assert.EndsWith(" " + mainThread, line, StringComparison.Ordinal);
                handled.Add(line[..line.LastIndexOf(' ')]);
            }
        }

        Assert.Equal(["HANDLER connect 0", .. Enumerable.Range(1, Ticks).Select(n => $"HANDLER tick {n}")], handled);

        // The ten sent before the first pump were queued, not dropped: some pump handled more than one event at once.
        Assert.Contains(lines, l => l.StartsWith("PUMP END ", StringComparison.Ordinal) && int.Parse(l[(l.IndexOf("handled=", StringComparison.Ordinal) + "handled=".Length)..], CultureInfo.InvariantCulture) > 1);
        Assert.Empty(mono.Errors);
    }
}
