namespace Ally.Abstractions;

/// <summary>Represents what the host resolved for one provider from config.json, <c>.env</c> and the environment.</summary>
/// <remarks>Instances are immutable and may be shared between threads.</remarks>
public sealed record ProviderSettings
{
    /// <summary>Gets the provider's name as used in config.json.</summary>
    public required string Name { get; init; }

    /// <summary>Gets the model to use, or <see langword="null"/> to use the plugin's default.</summary>
    public string? Model { get; init; }

    /// <summary>Gets the base URL of the provider's API, or <see langword="null"/> for the provider's own default.</summary>
    public Uri? BaseUrl { get; init; }

    /// <summary>Gets the API key, or <see langword="null"/> when the provider needs none or none is set.</summary>
    /// <remarks>Never write this value to a log, an exception message or any output.</remarks>
    public string? ApiKey { get; init; }

    /// <summary>Gets the sampling temperature, or <see langword="null"/> for the provider's default.</summary>
    public double? Temperature { get; init; }

    /// <summary>Gets the time after which a request is abandoned. Defaults to 120 seconds.</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(120);

    /// <summary>
    /// Gets the values of the plugin's required environment variables and the provider's own entries in config.json,
    /// by name, case-insensitively (for example <c>MINIMAX_GROUP_ID</c> or <c>group_id</c>).
    /// </summary>
    public IReadOnlyDictionary<string, string> Values { get; init; } =
        new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);

    /// <summary>Gets an HTTP client the host offers for connection reuse, or <see langword="null"/> to create one.</summary>
    /// <remarks>
    /// The host owns this client; a plugin must not dispose it. It does not follow redirects (following one would
    /// drop the <c>Authorization</c> header): a 3xx response reaches the plugin as it is.
    /// </remarks>
    public HttpClient? HttpClient { get; init; }

    /// <summary>Gets a value by name from <see cref="Values"/>.</summary>
    /// <param name="name">The variable or config entry name.</param>
    /// <returns>The value, or <see langword="null"/> when it is not set or empty.</returns>
    public string? GetValue(string name) =>
        Values.TryGetValue(name, out var value) && !string.IsNullOrEmpty(value) ? value : null;
}
