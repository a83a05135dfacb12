using VizHtml.Diagnostics;

namespace VizHtml.Status;

/// <summary>
/// The last refusals and the last disconnects, for the status page: two small rings, written where a request is refused
/// or a client leaves (rare events; a short lock each), read once a second while a status page is open. Thread-safe.
/// </summary>
internal sealed class StatusLog(TimeProvider time, int capacity = StatusLog.DefaultCapacity)
{
    public const int DefaultCapacity = 50;

    private readonly Ring<Refusal> _refusals = new(capacity);
    private readonly Ring<Departure> _departures = new(capacity);

    /// <summary>A refused request: which rule refused it, from where, when.</summary>
    public readonly record struct Refusal(string Rule, string Address, DateTimeOffset At);

    /// <summary>A client that left: who, why, when, and whether it may still resume.</summary>
    public readonly record struct Departure(string ClientId, string Address, VizDisconnectReason Reason, int? CloseStatus, string? CloseDescription, bool CanResume, DateTimeOffset At);

    public void Refused(RefusalRule rule, string address) => Refused(RuleName(rule), address);

    public void Refused(string rule, string address) => _refusals.Add(new Refusal(rule, address, time.GetUtcNow()));

    public void Departed(VizDisconnectEvent e) =>
        _departures.Add(new Departure(e.Client.Id, e.Client.Address, e.Reason, e.CloseStatus, e.CloseDescription, e.CanResume, time.GetUtcNow()));

    /// <summary>The refusals kept, newest first.</summary>
    public Refusal[] Refusals => _refusals.NewestFirst();

    /// <summary>The departures kept, newest first.</summary>
    public Departure[] Departures => _departures.NewestFirst();

    /// <summary>The rule's name as the <c>vizhtml.refusal.rule</c> metric tag spells it.</summary>
    public static string RuleName(RefusalRule rule) => rule switch
    {
        RefusalRule.Host => "host",
        RefusalRule.Origin => "origin",
        RefusalRule.Key => "key",
        RefusalRule.NotAccepting => "not_accepting",
        RefusalRule.MaxConnections => "max_connections",
        RefusalRule.MaxConnectionsPerAddress => "max_connections_per_address",
        RefusalRule.MaxFormBytes => "max_form_bytes",
        RefusalRule.FormBudget => "form_budget",
        RefusalRule.FormRejected => "form_rejected",
        RefusalRule.FormUploadTimeout => "form_upload_timeout",
        _ => rule.ToString(),
    };

    /// <summary>A fixed-size ring: the oldest entry makes room for the newest.</summary>
    private sealed class Ring<T>(int capacity)
    {
        private readonly T[] _items = new T[capacity];
        private readonly Lock _gate = new();
        private int _next;
        private int _count;

        public void Add(T item)
        {
            lock (_gate)
            {
                _items[_next] = item;
                _next = (_next + 1) % _items.Length;
                _count = Math.Min(_count + 1, _items.Length);
            }
        }

        public T[] NewestFirst()
        {
            lock (_gate)
            {
                var result = new T[_count];
                for (var i = 0; i < _count; i++)
                {
                    result[i] = _items[(_next - 1 - i + _items.Length) % _items.Length];
                }

                return result;
            }
        }
    }
}
