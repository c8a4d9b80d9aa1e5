using System.Globalization;
using System.Runtime.InteropServices;

namespace Ally.Bench.Gateway;

/// <summary>
/// Context switches: each is a thread going to sleep or being preempted, and most of a gateway's at a low request rate
/// are wake-ups, which on a small VM cost far more than the work they wake for.
/// </summary>
internal static class ContextSwitchCounter
{
    /// <summary>This process's, from getrusage, which keeps the counts of threads that have ended (the thread pool retires idle ones).</summary>
    public static double OfThisProcess()
    {
        // struct rusage on 64-bit Linux: two timevals (4 longs), then 14 longs; ru_nvcsw and ru_nivcsw are the last two.
        var usage = new long[18];
        return GetRusage(0, usage) == 0 ? usage[16] + usage[17] : double.NaN;
    }

    /// <summary>Another process's from /proc (the sum over its live threads; threads that have ended are not counted).</summary>
    public static double OfProcess(int pid)
    {
        var total = 0L;
        foreach (var task in Directory.EnumerateDirectories($"/proc/{pid}/task"))
        {
            try
            {
                foreach (var line in File.ReadLines(Path.Combine(task, "status")))
                {
                    if (line.StartsWith("voluntary_ctxt_switches:", StringComparison.Ordinal) || line.StartsWith("nonvoluntary_ctxt_switches:", StringComparison.Ordinal))
                    {
                        total += long.Parse(line[(line.IndexOf(':') + 1)..].Trim(), CultureInfo.InvariantCulture);
                    }
                }
            }
            catch (IOException)
            {
                // the thread ended while we read
            }
        }

        return total;
    }

#pragma warning disable SYSLIB1054 // a long[] is blittable; LibraryImport would need unsafe code for one call per run
    [DllImport("libc", EntryPoint = "getrusage")]
    private static extern int GetRusage(int who, [Out] long[] usage);
#pragma warning restore SYSLIB1054
}
