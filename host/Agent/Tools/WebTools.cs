using System.ComponentModel;
using System.Net;
using System.Text;
using System.Text.RegularExpressions;

namespace Ally.Host.Agent.Tools;

/// <summary>Fetching a web page as text, with a size cap and a timeout.</summary>
internal sealed partial class WebTools
{
    internal const int MaxBytes = 2_000_000;
    internal const int MaxChars = 50_000;

    private readonly HttpClient _http;
    private readonly TimeSpan _timeout;

    public WebTools(HttpClient http, TimeSpan? timeout = null)
    {
        _http = http;
        _timeout = timeout ?? TimeSpan.FromSeconds(30);
    }

    [Description("Fetches an http(s) URL and returns its content as text (HTML is reduced to readable text). Large pages are cut.")]
    public async Task<string> FetchUrl(
        [Description("The absolute http:// or https:// URL.")] string url,
        CancellationToken cancellationToken = default)
    {
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
        {
            throw new ToolException($"'{url}' is not an absolute http:// or https:// URL.");
        }

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(_timeout);
        try
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, uri);
            request.Headers.UserAgent.ParseAdd("Ally/0.1 (+terminal agent)");
            request.Headers.Accept.ParseAdd("text/html,text/plain,application/json,*/*;q=0.5");
            using var response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timeout.Token);
            var bytes = await ReadCappedAsync(response.Content, timeout.Token);
            var mediaType = response.Content.Headers.ContentType?.MediaType ?? string.Empty;
            if (!IsText(mediaType, bytes.Buffer))
            {
                throw new ToolException($"{uri} returned {mediaType} content, which is not text.");
            }

            var charset = response.Content.Headers.ContentType?.CharSet;
            var encoding = Encoding.UTF8;
            if (!string.IsNullOrEmpty(charset))
            {
                try
                {
                    encoding = Encoding.GetEncoding(charset.Trim('"'));
                }
                catch (ArgumentException)
                {
                    // Unknown charsets fall back to UTF-8, which most pages are anyway.
                }
            }

            var text = encoding.GetString(bytes.Buffer, 0, bytes.Length);
            if (mediaType.Contains("html", StringComparison.OrdinalIgnoreCase) || text.TrimStart().StartsWith('<'))
            {
                text = HtmlToText(text);
            }

            var status = response.IsSuccessStatusCode ? string.Empty : $"[HTTP {(int)response.StatusCode} {response.ReasonPhrase}]\n";
            var cut = bytes.Truncated ? $"\n[cut at {MaxBytes} bytes]" : string.Empty;
            return status + OutputCap.Apply(text, MaxChars) + cut;
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new ToolException($"{uri} did not answer within {_timeout.TotalSeconds:0} seconds.");
        }
        catch (HttpRequestException ex)
        {
            throw new ToolException($"{uri} could not be fetched: {ex.Message}", ex);
        }
    }

    /// <summary>Reduces HTML to its visible text: scripts, styles and tags removed, entities decoded, blank runs collapsed.</summary>
    internal static string HtmlToText(string html)
    {
        var text = DropInvisible().Replace(html, " ");
        text = BlockTags().Replace(text, "\n");
        text = Tags().Replace(text, string.Empty);
        text = WebUtility.HtmlDecode(text);
        text = Spaces().Replace(text, " ");
        text = BlankLines().Replace(text, "\n\n");
        return text.Trim();
    }

    private static async Task<(byte[] Buffer, int Length, bool Truncated)> ReadCappedAsync(HttpContent content, CancellationToken cancellationToken)
    {
        await using var stream = await content.ReadAsStreamAsync(cancellationToken);
        var buffer = new byte[MaxBytes];
        var length = 0;
        int read;
        while (length < MaxBytes && (read = await stream.ReadAsync(buffer.AsMemory(length, MaxBytes - length), cancellationToken)) > 0)
        {
            length += read;
        }

        var truncated = length == MaxBytes && await stream.ReadAsync(new byte[1], cancellationToken) > 0;
        return (buffer, length, truncated);
    }

    private static bool IsText(string mediaType, byte[] buffer) =>
        mediaType.Length == 0
            ? Array.IndexOf(buffer, (byte)0, 0, Math.Min(buffer.Length, 8000)) < 0
            : mediaType.StartsWith("text/", StringComparison.OrdinalIgnoreCase)
                || mediaType.Contains("json", StringComparison.OrdinalIgnoreCase)
                || mediaType.Contains("xml", StringComparison.OrdinalIgnoreCase)
                || mediaType.Contains("javascript", StringComparison.OrdinalIgnoreCase);

    [GeneratedRegex(@"<(script|style|noscript|svg|head)\b[^>]*>.*?</\1\s*>|<!--.*?-->", RegexOptions.IgnoreCase | RegexOptions.Singleline)]
    private static partial Regex DropInvisible();

    [GeneratedRegex(@"<(br|/p|/div|/li|/h[1-6]|/tr|/pre|/section|/article|/header|/footer|li|h[1-6])\b[^>]*>", RegexOptions.IgnoreCase)]
    private static partial Regex BlockTags();

    [GeneratedRegex("<[^>]+>")]
    private static partial Regex Tags();

    [GeneratedRegex(@"[ \t\r\f\v]+")]
    private static partial Regex Spaces();

    [GeneratedRegex(@"\n\s*\n(\s*\n)+")]
    private static partial Regex BlankLines();
}
