using Ally.Host.Providers.Ollama;

namespace Ally.Host.Tests.Providers.Ollama;

public sealed class OllamaHostTests
{
    [Theory]
    [InlineData("", "http://localhost:11434/")]
    [InlineData("  ", "http://localhost:11434/")]
    [InlineData("localhost", "http://localhost:11434/")]
    [InlineData("0.0.0.0", "http://localhost:11434/")]
    [InlineData("0.0.0.0:11434", "http://localhost:11434/")]
    [InlineData("127.0.0.1:8080", "http://127.0.0.1:8080/")]
    [InlineData("gpu-box", "http://gpu-box:11434/")]
    [InlineData("gpu-box:11500", "http://gpu-box:11500/")]
    [InlineData(":11435", "http://localhost:11435/")]
    [InlineData("http://gpu-box:11434", "http://gpu-box:11434/")]
    [InlineData("http://0.0.0.0:11434", "http://localhost:11434/")]
    [InlineData("https://ollama.example.com", "https://ollama.example.com/")]
    [InlineData("http://example.com", "http://example.com/")]
    [InlineData("https://example.com/ollama", "https://example.com/ollama")]
    [InlineData("example.com:notaport", "http://example.com:11434/")]
    [InlineData("[::1]:11434", "http://[::1]:11434/")]
    [InlineData("[::]:11434", "http://localhost:11434/")]
    [InlineData("::1", "http://[::1]:11434/")]
    public void NormalizeHost_OllamaHostValue_BecomesBaseUrl(string value, string expected)
    {
        // Given / When
        var uri = OllamaChatClient.NormalizeHost(value);

        // Then
        Assert.Equal(expected, uri.AbsoluteUri);
    }

    [Fact]
    public void NormalizeHost_Null_Throws()
    {
        // Given / When / Then
        Assert.Throws<ArgumentNullException>(() => OllamaChatClient.NormalizeHost(null!));
    }
}
