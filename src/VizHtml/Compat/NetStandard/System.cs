using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text;

namespace System;

/// <summary>String, character, argument-check and math members of .NET Core 2.1 to .NET 8, over what .NET Standard 2.0 has.</summary>
internal static class SystemCompat
{
    public static bool Contains(this string text, char value) => text.IndexOf(value) >= 0;

    public static bool Contains(this string text, char value, StringComparison comparison) => text.IndexOf(value.ToString(), comparison) >= 0;

    public static bool Contains(this string text, string value, StringComparison comparison) => text.IndexOf(value, comparison) >= 0;

    public static bool StartsWith(this string text, char value) => text.Length > 0 && text[0] == value;

    public static bool EndsWith(this string text, char value) => text.Length > 0 && text[text.Length - 1] == value;

    public static int IndexOf(this string text, char value, StringComparison comparison) => text.IndexOf(value.ToString(), comparison);

    public static string[] Split(this string text, char separator, StringSplitOptions options) => text.Split([separator], options);

    public static string[] Split(this string text, char separator, int count, StringSplitOptions options = StringSplitOptions.None) => text.Split([separator], count, options);

    public static string Replace(this string text, string oldValue, string? newValue, StringComparison comparison)
    {
        if (comparison == StringComparison.Ordinal)
        {
            return text.Replace(oldValue, newValue ?? string.Empty);
        }

        var result = new StringBuilder(text.Length);
        var at = 0;
        int found;
        while ((found = text.IndexOf(oldValue, at, comparison)) >= 0)
        {
            result.Append(text, at, found - at).Append(newValue);
            at = found + oldValue.Length;
        }

        return result.Append(text, at, text.Length - at).ToString();
    }

    public static int GetHashCode(this string text, StringComparison comparison) =>
        comparison is StringComparison.OrdinalIgnoreCase ? StringComparer.OrdinalIgnoreCase.GetHashCode(text) : StringComparer.Ordinal.GetHashCode(text);

    extension(char)
    {
        public static bool IsAsciiDigit(char c) => c is >= '0' and <= '9';

        public static bool IsAsciiHexDigit(char c) => c is (>= '0' and <= '9') or (>= 'a' and <= 'f') or (>= 'A' and <= 'F');

        public static bool IsAsciiLetter(char c) => c is (>= 'a' and <= 'z') or (>= 'A' and <= 'Z');

        public static bool IsAsciiLetterOrDigit(char c) => char.IsAsciiLetter(c) || char.IsAsciiDigit(c);

        public static bool IsAsciiLetterLower(char c) => c is >= 'a' and <= 'z';

        public static bool IsAsciiLetterUpper(char c) => c is >= 'A' and <= 'Z';
    }

    extension(ArgumentNullException)
    {
        public static void ThrowIfNull([Diagnostics.CodeAnalysis.NotNull] object? argument, [CallerArgumentExpression(nameof(argument))] string? paramName = null)
        {
            if (argument is null)
            {
                throw new ArgumentNullException(paramName);
            }
        }
    }

    extension(ArgumentException)
    {
        public static void ThrowIfNullOrEmpty([Diagnostics.CodeAnalysis.NotNull] string? argument, [CallerArgumentExpression(nameof(argument))] string? paramName = null)
        {
            ArgumentNullException.ThrowIfNull(argument, paramName);
            if (argument.Length == 0)
            {
                throw new ArgumentException("The value cannot be an empty string.", paramName);
            }
        }

        public static void ThrowIfNullOrWhiteSpace([Diagnostics.CodeAnalysis.NotNull] string? argument, [CallerArgumentExpression(nameof(argument))] string? paramName = null)
        {
            ArgumentNullException.ThrowIfNull(argument, paramName);
            if (string.IsNullOrWhiteSpace(argument))
            {
                throw new ArgumentException("The value cannot be an empty string or composed entirely of whitespace.", paramName);
            }
        }
    }

    extension(ObjectDisposedException)
    {
        public static void ThrowIf([Diagnostics.CodeAnalysis.DoesNotReturnIf(true)] bool condition, object instance)
        {
            if (condition)
            {
                throw new ObjectDisposedException(instance.GetType().FullName);
            }
        }
    }

    extension(Math)
    {
        public static int Clamp(int value, int min, int max) => value < min ? min : value > max ? max : value;

        public static long Clamp(long value, long min, long max) => value < min ? min : value > max ? max : value;

        public static double Clamp(double value, double min, double max) => value < min ? min : value > max ? max : value;
    }

    extension(OperatingSystem)
    {
        public static bool IsWindows() => RuntimeInformation.IsOSPlatform(OSPlatform.Windows);

        public static bool IsLinux() => RuntimeInformation.IsOSPlatform(OSPlatform.Linux);

        public static bool IsMacOS() => RuntimeInformation.IsOSPlatform(OSPlatform.OSX);
    }

    extension(Enum)
    {
        public static bool IsDefined<TEnum>(TEnum value)
            where TEnum : struct, Enum => Enum.IsDefined(typeof(TEnum), value);
    }

    extension(Random)
    {
        public static Random Shared => SharedRandom.Instance;
    }

    extension(TimeSpan)
    {
        public static TimeSpan operator *(TimeSpan timeSpan, double factor) => TimeSpan.FromTicks((long)Math.Round(timeSpan.Ticks * factor));

        public static TimeSpan operator /(TimeSpan timeSpan, double divisor) => TimeSpan.FromTicks((long)Math.Round(timeSpan.Ticks / divisor));
    }

    extension(Convert)
    {
        public static bool TryFromBase64String(string text, Span<byte> bytes, out int bytesWritten)
        {
            bytesWritten = 0;
            byte[] decoded;
            try
            {
                decoded = Convert.FromBase64String(text);
            }
            catch (FormatException)
            {
                return false;
            }

            if (decoded.Length > bytes.Length)
            {
                return false;
            }

            decoded.CopyTo(bytes);
            bytesWritten = decoded.Length;
            return true;
        }
    }

    extension(string)
    {
        public static string Concat(ReadOnlySpan<char> first, ReadOnlySpan<char> second) => first.ToString() + second.ToString();
    }

    extension(Array)
    {
        /// <summary>The largest length an array may have.</summary>
        public static int MaxLength => 0x7FFFFFC7;
    }

    extension(GC)
    {
        public static T[] AllocateUninitializedArray<T>(int length, bool pinned = false) => new T[length];
    }

    extension(Convert)
    {
        public static string ToHexStringLower(ReadOnlySpan<byte> bytes)
        {
            var text = new StringBuilder(bytes.Length * 2);
            foreach (var b in bytes)
            {
                text.Append(b.ToString("x2", Globalization.CultureInfo.InvariantCulture));
            }

            return text.ToString();
        }

        public static string ToBase64String(ReadOnlySpan<byte> bytes) => Convert.ToBase64String(bytes.ToArray());
    }

    public static void Sort<T>(this Span<T> span, Comparison<T> comparison)
    {
        var copy = span.ToArray();
        Array.Sort(copy, comparison);
        copy.CopyTo(span);
    }

    /// <summary>A number's UTF-8 digits (.NET 8's <c>IUtf8SpanFormattable</c>).</summary>
    public static bool TryFormat(this long value, Span<byte> utf8Destination, out int bytesWritten, ReadOnlySpan<char> format = default, IFormatProvider? provider = null) =>
        System.Buffers.Text.Utf8Formatter.TryFormat(value, utf8Destination, out bytesWritten);

    extension(Encoding)
    {
        /// <summary>ISO-8859-1: each byte one character.</summary>
        public static Encoding Latin1 => Encoding.GetEncoding(28591);
    }

    public static unsafe string GetString(this Encoding encoding, ReadOnlySpan<byte> bytes)
    {
        if (bytes.IsEmpty)
        {
            return string.Empty;
        }

        fixed (byte* pointer = bytes)
        {
            return encoding.GetString(pointer, bytes.Length);
        }
    }

    public static unsafe int GetBytes(this Encoding encoding, ReadOnlySpan<char> chars, Span<byte> bytes)
    {
        fixed (char* source = chars)
        fixed (byte* destination = bytes)
        {
            return encoding.GetBytes(source, chars.Length, destination, bytes.Length);
        }
    }

    public static unsafe int GetByteCount(this Encoding encoding, ReadOnlySpan<char> chars)
    {
        fixed (char* source = chars)
        {
            return encoding.GetByteCount(source, chars.Length);
        }
    }

    private static class SharedRandom
    {
        [ThreadStatic]
        private static Random? t_random;

        // One per thread: Random is not thread-safe, and this is only ever a source of jitter.
        public static Random Instance => t_random ??= new Random(Guid.NewGuid().GetHashCode());
    }
}
