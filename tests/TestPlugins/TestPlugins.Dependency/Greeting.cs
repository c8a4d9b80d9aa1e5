namespace Ally.TestPlugins;

public sealed class Greeting
{
    public string Text => "hello from a dependency";
}
