using System.Text;
using VizHtml.IntegrationTests.Infrastructure;

namespace VizHtml.IntegrationTests.Browser;

/// <summary>A thread-safe <see cref="TextWriter"/> that collects whole lines so a test can await them.</summary>
public sealed class LineWriter : TextWriter
{
    private readonly StringBuilder _partial = new();

    public override Encoding Encoding => Encoding.UTF8;

    /// <summary>Every completed line, without its line terminator, in the order written.</summary>
    public EventLog<string> Lines { get; } = new();

    public override void Write(char value) => Append([value]);

    public override void Write(string? value) => Append(value);

    public override void WriteLine(string? value) => Append(value + "\n");

    /// <summary>
    /// Waits until at least <paramref name="count"/> lines satisfy <paramref name="match"/>, and returns every line so far.
    /// On timeout the exception lists the lines written and <paramref name="context"/> (say, what the server logged).
    /// </summary>
    public async Task<IReadOnlyList<string>> WaitForLinesAsync(Func<string, bool> match, int count = 1, Func<string>? context = null)
    {
        try
        {
            return await Lines.WaitForAsync(lines => lines.Count(match) >= count);
        }
        catch (TimeoutException ex)
        {
            var written = Lines.Items.Count == 0 ? "(none)" : string.Join(" | ", Lines.Items);
            throw new TimeoutException($"Fewer than {count} expected line(s) within {TestServer.Timeout.TotalSeconds} s. Lines written: {written}. {context?.Invoke()}", ex);
        }
    }

    private void Append(ReadOnlySpan<char> text)
    {
        // One lock per call keeps a line written by one thread whole even when another thread writes meanwhile.
        lock (_partial)
        {
            foreach (var c in text)
            {
                if (c == '\n')
                {
                    Lines.Add(_partial.ToString().TrimEnd('\r'));
                    _partial.Clear();
                }
                else
                {
                    _partial.Append(c);
                }
            }
        }
    }
}
