namespace Ally.Abstractions;

/// <summary>Specifies why a provider call failed, so that a router can decide whether to retry, wait or move on.</summary>
public enum ProviderErrorKind
{
    /// <summary>The cause is not known.</summary>
    Unknown,

    /// <summary>The key is missing, wrong, revoked or lacks permission (HTTP 401, 403). Move on without retrying.</summary>
    Authentication,

    /// <summary>The account has no credit or quota left (HTTP 402, or 429 <c>insufficient_quota</c>). Move on.</summary>
    QuotaExceeded,

    /// <summary>Too many requests (HTTP 429). Wait for <see cref="ProviderException.RetryAfter"/> or move on.</summary>
    RateLimit,

    /// <summary>The provider is overloaded (HTTP 503, 529, <c>overloaded_error</c>). Retry with backoff.</summary>
    Overloaded,

    /// <summary>The provider failed (HTTP 5xx). Retry with backoff.</summary>
    ServerError,

    /// <summary>The connection failed or was refused. Retry with backoff.</summary>
    Network,

    /// <summary>The request is malformed or not allowed (HTTP 400, 422). Do not retry.</summary>
    InvalidRequest,

    /// <summary>The prompt does not fit the model's context window. Try a model with a larger window.</summary>
    ContextLengthExceeded,

    /// <summary>The prompt or the answer was blocked by the provider's content filter.</summary>
    ContentFilter,

    /// <summary>The model or endpoint does not exist (HTTP 404). Do not retry.</summary>
    NotFound,

    /// <summary>The call took longer than allowed: in total, to the first token, or between streamed pieces.</summary>
    Timeout,

    /// <summary>A streamed answer broke off after some of it had been delivered; the answer is incomplete.</summary>
    TruncatedStream,
}
