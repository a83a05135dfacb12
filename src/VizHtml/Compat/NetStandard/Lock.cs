namespace System.Threading;

#pragma warning disable CS9216 // This is the stand-in: its monitor is the lock.

/// <summary>The .NET 9 lock type, over a monitor: the compiler turns <c>lock</c> on it into <see cref="EnterScope"/>.</summary>
internal sealed class Lock
{
    public Scope EnterScope()
    {
        Monitor.Enter(this);
        return new Scope(this);
    }

    public void Enter() => Monitor.Enter(this);

    public void Exit() => Monitor.Exit(this);

    public bool IsHeldByCurrentThread => Monitor.IsEntered(this);

    public readonly ref struct Scope
    {
        private readonly Lock _owner;

        internal Scope(Lock owner) => _owner = owner;

        public void Dispose() => Monitor.Exit(_owner);
    }
}
#pragma warning restore CS9216
