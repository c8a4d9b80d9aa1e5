using System.Text.Json;

namespace Ally.Host.Gateway;

/// <summary>Writes a <see cref="UsageReport"/> as the JSON of <c>GET /api/usage</c>.</summary>
internal static class UsageReportWriter
{
    public static void Write(Utf8JsonWriter writer, UsageReport report)
    {
        writer.WriteStartObject();
        writer.WriteString("source", report.Source);
        if (report.Since is { } since)
        {
            writer.WriteString("since", since);
        }
        else
        {
            writer.WriteNull("since");
        }

        long requests = 0, input = 0, output = 0, errors = 0;
        decimal cost = 0;
        writer.WriteStartArray("by_model");
        foreach (var row in report.Rows)
        {
            requests += row.Requests;
            errors += row.Errors;
            input += row.InputTokens;
            output += row.OutputTokens;
            cost += row.CostUsd;
            writer.WriteStartObject();
            writer.WriteString("provider", row.Provider);
            writer.WriteString("model", row.Model);
            writer.WriteNumber("requests", row.Requests);
            writer.WriteNumber("errors", row.Errors);
            writer.WriteNumber("cancelled", row.Cancelled);
            writer.WriteNumber("input_tokens", row.InputTokens);
            writer.WriteNumber("output_tokens", row.OutputTokens);
            writer.WriteNumber("cached_input_tokens", row.CachedInputTokens);
            writer.WriteNumber("reasoning_tokens", row.ReasoningTokens);
            writer.WriteNumber("avg_latency_ms", row.AverageLatencyMs);
            writer.WriteNumber("cost_usd", row.CostUsd);
            writer.WriteEndObject();
        }

        writer.WriteEndArray();
        writer.WriteStartObject("totals");
        writer.WriteNumber("requests", requests);
        writer.WriteNumber("errors", errors);
        writer.WriteNumber("input_tokens", input);
        writer.WriteNumber("output_tokens", output);
        writer.WriteNumber("cost_usd", cost);
        writer.WriteEndObject();

        writer.WriteStartArray("recent");
        foreach (var call in report.Recent)
        {
            writer.WriteStartObject();
            writer.WriteString("time", call.Timestamp);
            writer.WriteString("provider", call.Provider);
            writer.WriteString("model", call.Model);
            writer.WriteBoolean("stream", call.Stream);
            writer.WriteString("outcome", call.Outcome);
            writer.WriteNumber("status", call.Status);
            writer.WriteNumber("latency_ms", Math.Round(call.LatencyMs, 2));
            WriteNumberOrNull(writer, "ttft_ms", call.TimeToFirstTokenMs is { } ttft ? Math.Round(ttft, 2) : null);
            WriteNumberOrNull(writer, "input_tokens", call.InputTokens);
            WriteNumberOrNull(writer, "output_tokens", call.OutputTokens);
            WriteNumberOrNull(writer, "cached_input_tokens", call.CachedInputTokens);
            WriteNumberOrNull(writer, "reasoning_tokens", call.ReasoningTokens);
            writer.WriteBoolean("estimated", call.Estimated);
            writer.WriteString("client_key", call.ClientKey);
            if (call.User is null)
            {
                writer.WriteNull("user");
            }
            else
            {
                writer.WriteString("user", call.User);
            }

            if (call.CostUsd is { } callCost)
            {
                writer.WriteNumber("cost_usd", callCost);
            }
            else
            {
                writer.WriteNull("cost_usd");
            }

            writer.WriteEndObject();
        }

        writer.WriteEndArray();
        writer.WriteEndObject();
    }

    private static void WriteNumberOrNull(Utf8JsonWriter writer, string name, double? value)
    {
        if (value is { } number)
        {
            writer.WriteNumber(name, number);
        }
        else
        {
            writer.WriteNull(name);
        }
    }

    private static void WriteNumberOrNull(Utf8JsonWriter writer, string name, long? value)
    {
        if (value is { } number)
        {
            writer.WriteNumber(name, number);
        }
        else
        {
            writer.WriteNull(name);
        }
    }
}
