using System.Globalization;

namespace Ally.Bench.Gateway;

/// <summary>
/// Context switches of a process from /proc (the sum over its live threads): each is a thread going to sleep or being
/// preempted, and most of a gateway's at a low request rate are wake-ups, which on a small VM cost far more than the
/// work they wake for. Threads that have ended are not counted.
/// </summary>
internal static class ContextSwitchCounter
{
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
}
