namespace Ally.Host.Plugins;

/// <summary>A problem with one plugin file, naming the file and what to do; the host keeps running.</summary>
/// <param name="Path">The plugin file or folder, as shown to the user.</param>
/// <param name="Message">One or two sentences: what is wrong and what to do.</param>
internal sealed record PluginWarning(string Path, string Message)
{
    public override string ToString() => Message;
}
