namespace System.Buffers;

/// <summary>A set of characters to search for (.NET 8's <c>SearchValues</c>).</summary>
internal static class SearchValues
{
    public static SearchValues<char> Create(ReadOnlySpan<char> values) => new(values);
}

internal sealed class SearchValues<T>
    where T : IEquatable<T>
{
    private readonly T[] _values;

    internal SearchValues(ReadOnlySpan<T> values) => _values = values.ToArray();

    public bool Contains(T value) => Array.IndexOf(_values, value) >= 0;

    internal ReadOnlySpan<T> Values => _values;
}

/// <summary>The span searches that take a <see cref="SearchValues{T}"/>, and the UTF-8 number formatting of .NET 8.</summary>
internal static class BuffersCompat
{
    public static int IndexOfAny(this ReadOnlySpan<char> span, SearchValues<char> values) => span.IndexOfAny(values.Values);

    public static int IndexOfAny(this Span<char> span, SearchValues<char> values) => ((ReadOnlySpan<char>)span).IndexOfAny(values.Values);

    public static bool ContainsAny(this ReadOnlySpan<char> span, SearchValues<char> values) => span.IndexOfAny(values.Values) >= 0;
}

/// <summary>A growable buffer to write into (the .NET Core 3.0 <c>ArrayBufferWriter</c>).</summary>
internal sealed class ArrayBufferWriter<T> : IBufferWriter<T>
{
    private T[] _buffer;
    private int _index;

    public ArrayBufferWriter(int initialCapacity = 256) => _buffer = new T[Math.Max(1, initialCapacity)];

    public ReadOnlyMemory<T> WrittenMemory => _buffer.AsMemory(0, _index);

    public ReadOnlySpan<T> WrittenSpan => _buffer.AsSpan(0, _index);

    public int WrittenCount => _index;

    public int Capacity => _buffer.Length;

    public int FreeCapacity => _buffer.Length - _index;

    public void Clear()
    {
        _buffer.AsSpan(0, _index).Clear();
        _index = 0;
    }

    public void ResetWrittenCount() => _index = 0;

    public void Advance(int count)
    {
        if (count < 0 || _index + count > _buffer.Length)
        {
            throw new ArgumentOutOfRangeException(nameof(count));
        }

        _index += count;
    }

    public Memory<T> GetMemory(int sizeHint = 0)
    {
        Grow(sizeHint);
        return _buffer.AsMemory(_index);
    }

    public Span<T> GetSpan(int sizeHint = 0)
    {
        Grow(sizeHint);
        return _buffer.AsSpan(_index);
    }

    private void Grow(int sizeHint)
    {
        var needed = Math.Max(sizeHint, 1);
        if (FreeCapacity < needed)
        {
            Array.Resize(ref _buffer, Math.Max(_buffer.Length * 2, _index + needed));
        }
    }
}
