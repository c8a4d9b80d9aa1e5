using System.Globalization;
using Ally.Abstractions;

namespace Ally.Host.Agent;

/// <summary>Turns a provider failure into one or two plain sentences that say what to do next.</summary>
internal static class ProviderErrorText
{
    private const int MaxDetail = 200;

    public static string Describe(ProviderException exception, string provider, string? model)
    {
        ArgumentNullException.ThrowIfNull(exception);
        var name = exception.Provider ?? provider;
        var status = exception.StatusCode is { } code ? string.Create(CultureInfo.InvariantCulture, $" (HTTP {code})") : string.Empty;
        var detail = Short(exception.Message);
        return exception.Kind switch
        {
            ProviderErrorKind.Authentication => $"{name} refused the key{status}. Check its key in .env, or switch with /provider.",
            ProviderErrorKind.QuotaExceeded => $"{name} says the account has no credit or quota left{status}. Switch with /provider.",
            ProviderErrorKind.RateLimit => $"{name} is limiting requests{status}{(exception.RetryAfter is { } wait ? string.Create(CultureInfo.InvariantCulture, $"; it asks to wait {Math.Ceiling(wait.TotalSeconds)} s") : string.Empty)}. Try /retry in a moment, or switch with /provider.",
            ProviderErrorKind.Overloaded or ProviderErrorKind.ServerError => $"{name} is having trouble{status}: {detail} Try /retry in a moment, or switch with /provider.",
            ProviderErrorKind.Network => $"{name} could not be reached: {detail} Check the connection or its base URL, then /retry.",
            ProviderErrorKind.InvalidRequest => $"{name} rejected the request{status}: {detail}",
            ProviderErrorKind.ContextLengthExceeded => $"The conversation is too long for {model ?? "this model"}. Start a new one with /new, or pick a model with a larger window with /model.",
            ProviderErrorKind.ContentFilter => $"{name}'s content filter blocked this. Rephrase, or switch with /provider.",
            ProviderErrorKind.NotFound => $"{name} does not know the model '{model}'{status}. See /models, then /model ID.",
            ProviderErrorKind.Timeout => $"{name} did not answer in time. Try /retry, or switch with /provider.",
            ProviderErrorKind.TruncatedStream => $"The answer from {name} broke off: {detail} Try /retry.",
            _ => $"{name} failed{status}: {detail}",
        };
    }

    private static string Short(string message)
    {
        var text = message.ReplaceLineEndings(" ").Trim();
        if (text.Length > MaxDetail)
        {
            text = text[..MaxDetail] + "…";
        }

        return text.EndsWith('.') ? text : text + ".";
    }
}
