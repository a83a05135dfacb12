using System.Net.Sockets;
using Xunit.Abstractions;

namespace VizHtml.IntegrationTests.Conformance;

public sealed class ScratchStress(EchoServerFixture server, ITestOutputHelper output) : IClassFixture<EchoServerFixture>
{
    [Theory]
    [InlineData("reserved11+8 after echo", true, 11, 8, 0)]
    [InlineData("reserved11+8 no echo", false, 11, 8, 0)]
    [InlineData("reserved11+0 after echo", true, 11, 0, 0)]
    [InlineData("rsv text+8 after echo", true, 1, 8, 4)]
    [InlineData("rsv text+8 no echo", false, 1, 8, 4)]
    [InlineData("client close", false, 8, 0, 0)]
    [InlineData("binary 1003", false, 2, 8, 0)]
    [InlineData("invalid close code", false, 8, 2, 0)]
    public async Task Stress(string name, bool echoFirst, int opcode, int len, int rsv)
    {
        int resets = 0, eofNoClose = 0, ok = 0, endEof = 0, endReset = 0;
        for (var i = 0; i < 150; i++)
        {
            using var ws = await server.ConnectAsync();
            if (echoFirst)
            {
                await ws.SendTextAsync(Envelope.Echo("x"));
                await ws.ExpectEchoAsync("x");
            }
            await ws.SendFrameAsync((byte)opcode, new byte[len], rsv: rsv);
            try
            {
                var f = await ws.ReadUntilCloseAsync();
                if (f is null) eofNoClose++; else { ok++; if (await ws.ExpectTcpEndAsync() == TcpEnd.Eof) endEof++; else endReset++; }
            }
            catch (SocketException)
            {
                resets++;
            }
        }
        output.WriteLine($"{name}: ok={ok} resets={resets} eofNoClose={eofNoClose} endEof={endEof} endReset={endReset}");
    }
}
