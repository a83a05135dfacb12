using System.Collections.Concurrent;
using Microsoft.Playwright;

namespace VizHtml.IntegrationTests.Browser;

/// <summary>What a page reports about itself, collected as it happens.</summary>
public static class PageDiagnostics
{
    /// <summary>Uncaught exceptions in the page.</summary>
    public static ConcurrentQueue<string> CollectPageErrors(IPage page)
    {
        var errors = new ConcurrentQueue<string>();
        page.PageError += (_, error) => errors.Enqueue(error);
        return errors;
    }

    /// <summary>Console messages of one type (<c>error</c>, <c>warning</c>, <c>log</c>...), as text.</summary>
    public static ConcurrentQueue<string> CollectConsole(IPage page, string type)
    {
        var messages = new ConcurrentQueue<string>();
        page.Console += (_, message) =>
        {
            if (message.Type == type)
            {
                messages.Enqueue(message.Text);
            }
        };
        return messages;
    }
}
