using Microsoft.Extensions.AI;

namespace Ally.Host.Providers.Http;

/// <summary>The <see cref="IChatClient.GetService"/> every protocol client answers the same way.</summary>
internal static class ChatClientServices
{
    /// <summary>Returns the client's metadata, the client itself for any type it implements (such as IModelLister), or null.</summary>
    public static object? Get(IChatClient client, ChatClientMetadata metadata, Type serviceType, object? serviceKey)
    {
        ArgumentNullException.ThrowIfNull(serviceType);
        if (serviceKey is not null)
        {
            return null;
        }

        if (serviceType == typeof(ChatClientMetadata))
        {
            return metadata;
        }

        return serviceType.IsInstanceOfType(client) ? client : null;
    }
}
