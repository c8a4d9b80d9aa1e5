using Microsoft.Extensions.Logging.Console;

namespace Ally.Host.Logging;

/// <summary>Options of <see cref="ConsoleLineFormatter"/>.</summary>
internal sealed class ConsoleLineFormatterOptions : ConsoleFormatterOptions
{
    /// <summary>Gets or sets whether lines carry the category and the whole exception (<c>--verbose</c>). Default false.</summary>
    public bool Verbose { get; set; }
}
