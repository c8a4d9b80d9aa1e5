namespace Ally.Host.Gateway;

/// <summary>One failure as OpenAI reports it: <c>{"error":{"message","type","param","code"}}</c> with an HTTP status.</summary>
/// <param name="Status">The HTTP status code.</param>
/// <param name="Type">OpenAI's error type, for example <c>invalid_request_error</c>.</param>
/// <param name="Code">A stable code, for example <c>model_not_found</c>.</param>
/// <param name="Message">What went wrong, free of secrets.</param>
/// <param name="Param">The request field at fault, when one is.</param>
/// <param name="RetryAfter">How long the client should wait, sent as <c>Retry-After</c> in whole seconds.</param>
internal sealed record GatewayError(int Status, string Type, string Code, string Message, string? Param = null, TimeSpan? RetryAfter = null)
{
    public const string InvalidRequest = "invalid_request_error";
    public const string Authentication = "authentication_error";
    public const string Permission = "permission_error";
    public const string RateLimit = "rate_limit_error";
    public const string Quota = "insufficient_quota";
    public const string Server = "server_error";
    public const string Upstream = "api_error";

    public static GatewayError BadRequest(string message, string? param = null, string code = "invalid_request") =>
        new(400, InvalidRequest, code, message, param);
}
