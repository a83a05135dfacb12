namespace System.Security.Cryptography;

/// <summary>The one-shot hashes, random bytes and constant-time comparison of .NET 5 to 8.</summary>
internal static class CryptographyCompat
{
    extension(SHA1)
    {
#pragma warning disable CA5350 // The WebSocket accept value (RFC 6455) is defined with SHA-1; it is not used for security.
        public static byte[] HashData(byte[] source)
        {
            using var sha = SHA1.Create();
            return sha.ComputeHash(source);
        }
#pragma warning restore CA5350
    }

}

/// <summary>SHA-256's one-shot hash (a class of its own: its members would clash with SHA-1's in one class).</summary>
internal static class Sha256Compat
{
    extension(SHA256)
    {
        public static byte[] HashData(byte[] source)
        {
            using var sha = SHA256.Create();
            return sha.ComputeHash(source);
        }

        public static byte[] HashData(ReadOnlySpan<byte> source) => SHA256.HashData(source.ToArray());
    }
}

/// <summary>Random bytes in one call.</summary>
internal static class RandomCompat
{
    extension(RandomNumberGenerator)
    {
        public static byte[] GetBytes(int count)
        {
            var bytes = new byte[count];
            using var random = RandomNumberGenerator.Create();
            random.GetBytes(bytes);
            return bytes;
        }

        public static void Fill(Span<byte> data)
        {
            RandomNumberGenerator.GetBytes(data.Length).CopyTo(data);
        }
    }
}

/// <summary>Comparison whose time does not depend on where the inputs differ (.NET Core 2.1).</summary>
internal static class CryptographicOperations
{
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining | System.Runtime.CompilerServices.MethodImplOptions.NoOptimization)]
    public static bool FixedTimeEquals(ReadOnlySpan<byte> left, ReadOnlySpan<byte> right)
    {
        if (left.Length != right.Length)
        {
            return false;
        }

        var difference = 0;
        for (var i = 0; i < left.Length; i++)
        {
            difference |= left[i] ^ right[i];
        }

        return difference == 0;
    }
}
