namespace System.Linq;

/// <summary>LINQ members of .NET Core 2.0 and later.</summary>
internal static class LinqCompat
{
    public static HashSet<T> ToHashSet<T>(this IEnumerable<T> source, IEqualityComparer<T>? comparer = null) => new(source, comparer);
}
