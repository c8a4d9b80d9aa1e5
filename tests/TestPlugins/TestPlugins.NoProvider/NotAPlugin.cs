using Ally.Abstractions;

namespace Ally.TestPlugins;

public static class NotAPlugin
{
    public static ProviderValidation Check() => ProviderValidation.Success;
}
