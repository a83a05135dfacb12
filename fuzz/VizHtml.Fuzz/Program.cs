using System.Diagnostics;
using System.Runtime.InteropServices;
using SharpFuzz;

namespace VizHtml.Fuzz;

/// <summary>One fuzz input: return normally, or throw (any exception is a finding).</summary>
internal delegate void FuzzTarget(ReadOnlySpan<byte> input);

internal static class Program
{
    private const string Usage = """
        usage: VizHtml.Fuzz <target>                  fuzz under afl-fuzz (SharpFuzz fork server);
                                                      outside afl-fuzz it runs the target once on stdin
               VizHtml.Fuzz <target> --run PATH...    run each file (or each file of each folder) once and print
                                                      PASS or FAIL<TAB>signature<TAB>path<TAB>message; exit 1 on any FAIL
               VizHtml.Fuzz --info                    print where VizHtml.dll and System.Text.Json.dll load from
        targets: envelope (EnvelopeReader.Read), vizdata (VizData public API), replay (ReplayBuffer vs a model),
                 requesthead (the standalone host's RequestHead.Parse), multipart (its MultipartFormReader)
        """;

    public static int Main(string[] args)
    {
        if (args is ["--info"])
        {
            // run.sh checks that the instrumented copies are the ones that load.
            Console.WriteLine($"VizHtml\t{typeof(VizData).Assembly.Location}");
            Console.WriteLine($"System.Text.Json\t{typeof(System.Text.Json.Nodes.JsonNode).Assembly.Location}");
            return 0;
        }

        if (args.Length == 0 || Resolve(args[0]) is not { } target)
        {
            Console.Error.WriteLine(Usage);
            return 2;
        }

        if (args.Length >= 2 && args[1] == "--run")
        {
            GiveInstrumentationSomewhereToWrite();
            return RunFiles(target, args.Skip(2));
        }

        if (args.Length != 1)
        {
            Console.Error.WriteLine(Usage);
            return 2;
        }

        // Persistent mode: one process, many inputs. SharpFuzz reports any exception that escapes as a crash.
        Fuzzer.Run(stream =>
        {
            using var memory = new MemoryStream();
            stream.CopyTo(memory);
            target(memory.GetBuffer().AsSpan(0, (int)memory.Length));
        });
        return 0;
    }

    /// <summary>
    /// An assembly instrumented by SharpFuzz writes every branch it takes into a 64 KiB trace map that only
    /// <see cref="Fuzzer.Run(Action{Stream})"/> sets up; give it a scratch map so instrumented builds also run here.
    /// </summary>
    private static unsafe void GiveInstrumentationSomewhereToWrite()
    {
        if (SharpFuzz.Common.Trace.SharedMem == null)
        {
            SharpFuzz.Common.Trace.SharedMem = (byte*)NativeMemory.AllocZeroed(1 << 16);
        }
    }

    internal static FuzzTarget? Resolve(string name) => name switch
    {
        "envelope" => EnvelopeTarget.Run,
        "vizdata" => VizDataTarget.Run,
        "replay" => ReplayTarget.Run,
        "requesthead" => RequestHeadTarget.Run,
        "multipart" => MultipartTarget.Run,
        _ => null,
    };

    private static int RunFiles(FuzzTarget target, IEnumerable<string> paths)
    {
        var failed = 0;
        var files = paths.SelectMany(p => Directory.Exists(p) ? Directory.EnumerateFiles(p).Order(StringComparer.Ordinal) : (IEnumerable<string>)[p]);
        foreach (var file in files)
        {
            var input = File.ReadAllBytes(file);
            try
            {
                target(input);
                Console.WriteLine($"PASS\t{file}");
            }
            catch (Exception ex)
            {
                failed++;
                var message = ex.Message.ReplaceLineEndings(" ");
                Console.WriteLine($"FAIL\t{Signature(ex)}\t{file}\t{(message.Length > 300 ? message[..300] + "…" : message)}");
                Console.Error.WriteLine($"--- {file}{Environment.NewLine}{ex}");
            }
        }

        return failed == 0 ? 0 : 1;
    }

    /// <summary>Groups findings: the invariant's name, or the exception type and the innermost VizHtml frame.</summary>
    internal static string Signature(Exception ex)
    {
        if (ex is InvariantException violation)
        {
            return violation.InnerException is { } inner ? $"{violation.Invariant}/{inner.GetType().Name}" : violation.Invariant;
        }

        // Innermost VizHtml frame, and the call it made that threw (so two failing calls in one method differ).
        var frames = new StackTrace(ex).GetFrames();
        var index = Array.FindIndex(frames, f => f.GetMethod()?.DeclaringType?.FullName is { } type
            && type.StartsWith("VizHtml.", StringComparison.Ordinal) && !type.StartsWith("VizHtml.Fuzz.", StringComparison.Ordinal));
        if (index < 0)
        {
            index = 0;
        }

        var signature = $"{ex.GetType().Name}@{Name(frames.ElementAtOrDefault(index))}";
        return index > 0 ? $"{signature}>{Name(frames[index - 1])}" : signature;

        static string Name(StackFrame? frame) => frame?.GetMethod() is { } m ? $"{m.DeclaringType?.Name}.{m.Name}" : "?";
    }
}
