using System.Buffers;
using System.Runtime.InteropServices;

namespace System.IO;

/// <summary>The <see cref="Memory{T}"/>-based <see cref="Stream"/> calls of .NET Core 2.1, over the array-based ones.</summary>
internal static class StreamCompat
{
    public static ValueTask<int> ReadAsync(this Stream stream, Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (MemoryMarshal.TryGetArray((ReadOnlyMemory<byte>)buffer, out var segment))
        {
            return new ValueTask<int>(stream.ReadAsync(segment.Array!, segment.Offset, segment.Count, cancellationToken));
        }

        return ReadPooledAsync(stream, buffer, cancellationToken);
    }

    public static ValueTask WriteAsync(this Stream stream, ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (MemoryMarshal.TryGetArray(buffer, out var segment))
        {
            return new ValueTask(stream.WriteAsync(segment.Array!, segment.Offset, segment.Count, cancellationToken));
        }

        return WritePooledAsync(stream, buffer, cancellationToken);
    }

    public static int Read(this Stream stream, Span<byte> buffer)
    {
        var rented = ArrayPool<byte>.Shared.Rent(buffer.Length);
        try
        {
            var read = stream.Read(rented, 0, buffer.Length);
            rented.AsSpan(0, read).CopyTo(buffer);
            return read;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(rented);
        }
    }

    public static void Write(this Stream stream, ReadOnlySpan<byte> buffer)
    {
        var rented = ArrayPool<byte>.Shared.Rent(buffer.Length);
        try
        {
            buffer.CopyTo(rented);
            stream.Write(rented, 0, buffer.Length);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(rented);
        }
    }

    public static void ReadExactly(this Stream stream, Span<byte> buffer)
    {
        while (!buffer.IsEmpty)
        {
            var read = stream.Read(buffer);
            if (read == 0)
            {
                throw new EndOfStreamException();
            }

            buffer = buffer[read..];
        }
    }

    public static Task CopyToAsync(this Stream stream, Stream destination, CancellationToken cancellationToken) =>
        stream.CopyToAsync(destination, 81920, cancellationToken);

    /// <summary>Reads until <paramref name="minimumBytes"/> have arrived or the stream ends (.NET 7).</summary>
    public static async ValueTask<int> ReadAtLeastAsync(this Stream stream, Memory<byte> buffer, int minimumBytes, bool throwOnEndOfStream = true, CancellationToken cancellationToken = default)
    {
        var total = 0;
        while (total < minimumBytes)
        {
            var read = await stream.ReadAsync(buffer[total..], cancellationToken).ConfigureAwait(false);
            if (read == 0)
            {
                return throwOnEndOfStream ? throw new EndOfStreamException() : total;
            }

            total += read;
        }

        return total;
    }

    private static async ValueTask<int> ReadPooledAsync(Stream stream, Memory<byte> buffer, CancellationToken cancellationToken)
    {
        var rented = ArrayPool<byte>.Shared.Rent(buffer.Length);
        try
        {
            var read = await stream.ReadAsync(rented, 0, buffer.Length, cancellationToken).ConfigureAwait(false);
            rented.AsMemory(0, read).CopyTo(buffer);
            return read;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(rented);
        }
    }

    private static async ValueTask WritePooledAsync(Stream stream, ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken)
    {
        var rented = ArrayPool<byte>.Shared.Rent(buffer.Length);
        try
        {
            buffer.CopyTo(rented);
            await stream.WriteAsync(rented, 0, buffer.Length, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(rented);
        }
    }
}

/// <summary>Symbolic links resolved as .NET 6's <c>ResolveLinkTarget</c> does, through the C library's <c>realpath</c> where there is one.</summary>
internal static class FileSystemCompat
{
    extension(Directory)
    {
        /// <summary>A new folder under the temporary folder, owner-only on Unix (mode 700), as .NET 7's.</summary>
        public static DirectoryInfo CreateTempSubdirectory(string prefix)
        {
            while (true)
            {
                var path = Path.Combine(Path.GetTempPath(), prefix + Path.GetRandomFileName().Replace(".", string.Empty));
                if (Path.DirectorySeparatorChar != '/')
                {
                    if (!Directory.Exists(path))
                    {
                        return Directory.CreateDirectory(path);
                    }

                    continue;
                }

                if (NativeMethods.mkdir(path, 0x1C0) == 0)
                {
                    return new DirectoryInfo(path);
                }

                if (!Directory.Exists(path))
                {
                    throw new IOException($"Could not create the temporary folder {path} (errno {System.Runtime.InteropServices.Marshal.GetLastWin32Error()}).");
                }
            }
        }
    }

    extension(File)
    {
        public static Task<string> ReadAllTextAsync(string path, CancellationToken cancellationToken = default)
        {
            cancellationToken.ThrowIfCancellationRequested();
            return ReadTextAsync(path, cancellationToken);
        }
    }

    extension(Path)
    {
        public static bool EndsInDirectorySeparator(string path) =>
            path.Length > 0 && (path[path.Length - 1] == Path.DirectorySeparatorChar || path[path.Length - 1] == Path.AltDirectorySeparatorChar);

        public static string TrimEndingDirectorySeparator(string path) =>
            Path.EndsInDirectorySeparator(path) && path.Length > 1 && path != Path.GetPathRoot(path) ? path.Substring(0, path.Length - 1) : path;
    }

    private static async Task<string> ReadTextAsync(string path, CancellationToken cancellationToken)
    {
        using var reader = new StreamReader(new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, 4096, useAsync: true));
        var text = await reader.ReadToEndAsync().ConfigureAwait(false);
        cancellationToken.ThrowIfCancellationRequested();
        return text;
    }

    public static FileSystemInfo? ResolveLinkTarget(this FileSystemInfo info, bool returnFinalTarget)
    {
        if (Path.DirectorySeparatorChar != '/' || !returnFinalTarget)
        {
            // Windows: links need privileges to create and the standalone host's users rarely have them; not resolved.
            return null;
        }

        var real = RealPath(info.FullName);
        if (real is null || real == info.FullName.TrimEnd('/'))
        {
            return null;
        }

        return info is DirectoryInfo ? new DirectoryInfo(real) : new FileInfo(real);
    }

    private static string? RealPath(string path)
    {
        var resolved = NativeMethods.realpath(path, IntPtr.Zero);
        if (resolved == IntPtr.Zero)
        {
            return null;
        }

        try
        {
            return System.Runtime.InteropServices.Marshal.PtrToStringAnsi(resolved);
        }
        finally
        {
            NativeMethods.free(resolved);
        }
    }

    private static class NativeMethods
    {
        [System.Runtime.InteropServices.DllImport("libc", CharSet = System.Runtime.InteropServices.CharSet.Ansi)]
#pragma warning disable SA1300, IDE1006, CA2101 // The C library's names; strings go as the runtime's native (UTF-8 on Unix) encoding.
        public static extern IntPtr realpath([System.Runtime.InteropServices.MarshalAs(System.Runtime.InteropServices.UnmanagedType.LPStr)] string path, IntPtr resolved);

        [System.Runtime.InteropServices.DllImport("libc", SetLastError = true)]
        public static extern int mkdir([System.Runtime.InteropServices.MarshalAs(System.Runtime.InteropServices.UnmanagedType.LPStr)] string path, int mode);

        [System.Runtime.InteropServices.DllImport("libc")]
        public static extern void free(IntPtr pointer);
#pragma warning restore SA1300, IDE1006, CA2101
    }
}
