namespace Ally.Abstractions;

/// <summary>Represents the outcome of <see cref="IProviderPlugin.ValidateConfig"/>.</summary>
public sealed class ProviderValidation
{
    private ProviderValidation(bool isValid, string? error)
    {
        IsValid = isValid;
        Error = error;
    }

    /// <summary>Gets a successful validation.</summary>
    public static ProviderValidation Success { get; } = new(true, null);

    /// <summary>Gets a value indicating whether the settings are valid.</summary>
    public bool IsValid { get; }

    /// <summary>Gets the reason the settings are not valid, or <see langword="null"/> when they are.</summary>
    public string? Error { get; }

    /// <summary>Creates a failed validation.</summary>
    /// <param name="error">One sentence that names the setting and says what to do.</param>
    /// <returns>A failed validation.</returns>
    /// <exception cref="ArgumentException"><paramref name="error"/> is null, empty or white space.</exception>
    public static ProviderValidation Fail(string error)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(error);
        return new(false, error);
    }
}
