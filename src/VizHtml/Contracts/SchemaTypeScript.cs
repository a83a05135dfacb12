using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace VizHtml.Contracts;

/// <summary>
/// Turns JSON schemas, as System.Text.Json's <c>JsonSchemaExporter</c> writes them, into TypeScript type expressions,
/// collecting one declaration (an interface, or a type alias) per named type it meets on the way.
/// </summary>
/// <remarks>
/// A schema node stands for a named type when it carries <see cref="NameKeyword"/> (the TypeScript name); the exporter's
/// own output has no names, so <see cref="ContractTypeScript"/> adds them as it exports. Covered: <c>type</c> (one or a
/// list), <c>enum</c>, <c>const</c>, <c>anyOf</c>/<c>oneOf</c>, <c>items</c>, <c>properties</c> with <c>required</c>,
/// <c>additionalProperties</c>, local <c>$ref</c>s (JSON pointers into the same document, as the exporter writes for
/// recursive types), <c>description</c> and <c>default</c> (as documentation). Anything else reads as <c>unknown</c>.
/// One instance per generated file: the declarations accumulate across the schemas it is given.
/// </remarks>
internal sealed class SchemaTypeScript
{
    /// <summary>The keyword that names a schema node's type in the output (an identifier).</summary>
    public const string NameKeyword = "$vizName";

    /// <summary>The keyword with where a named type came from (the .NET type), written as its documentation.</summary>
    public const string SourceKeyword = "$vizSource";

    private const int MaxDepth = 64;
    private const string Indent = "    ";

    // In order of first use, a slot taken before the members are converted: a type is declared before those it contains.
    private readonly List<string?> _declarations = [];
    private readonly HashSet<string> _declared = new(StringComparer.Ordinal);

    /// <summary>The declarations of the named types met so far, each complete (<c>interface X { ... }</c>), unindented.</summary>
    public IEnumerable<string> Declarations => _declarations.OfType<string>();

    /// <summary>The TypeScript type of <paramref name="schema"/>, declaring the named types it uses.</summary>
    /// <param name="schema">A node of <paramref name="root"/> (or the root itself).</param>
    /// <param name="root">The document <c>$ref</c> pointers resolve in.</param>
    /// <exception cref="InvalidOperationException">A <c>$ref</c> that does not resolve, or nesting past 64 levels.</exception>
    public string TypeOf(JsonNode? schema, JsonNode root) => Convert(schema, root, 0);

    /// <summary>A property or map key as TypeScript writes it: bare when an identifier, else a quoted string.</summary>
    public static string Key(string name) => IsIdentifier(name) ? name : Quote(name);

    /// <summary>A string literal (JSON's escapes are JavaScript's).</summary>
    public static string Quote(string text) => "\"" + JsonEncodedText.Encode(text).ToString() + "\"";

    /// <summary>Whether <paramref name="name"/> is a plain JavaScript identifier (ASCII letters, digits, _ and $, no leading digit).</summary>
    public static bool IsIdentifier(string name) =>
        name.Length > 0 && name[0] is not (>= '0' and <= '9') && name.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '$');

    private string Convert(JsonNode? node, JsonNode root, int depth)
    {
        if (depth > MaxDepth)
        {
            throw new InvalidOperationException($"The schema nests deeper than {MaxDepth} levels.");
        }

        switch (node)
        {
            case null:
                return "unknown";
            case JsonValue value when value.GetValueKind() == JsonValueKind.False:
                // true accepts anything, false nothing.
                return "never";
            case not JsonObject:
                return "unknown";
        }

        var obj = (JsonObject)node;
        var nullable = TypeNames(obj).Contains("null");
        var target = obj["$ref"] is { } reference ? Resolve(reference.GetValue<string>(), root) : null;
        if (target is JsonObject referenced && !nullable)
        {
            // The exporter points back to a nullable type's first use without repeating its "null".
            nullable = TypeNames(referenced).Contains("null");
        }

        if ((Name(obj) ?? (target is JsonObject named ? Name(named) : null)) is { } name)
        {
            Declare(name, target as JsonObject ?? obj, root, depth);
            return nullable ? name + " | null" : name;
        }

        return target is not null ? Convert(target, root, depth + 1) : Structural(obj, root, depth, includeNull: true);
    }

    /// <summary>The type a schema describes, its name (if any) ignored: what a named type is declared as.</summary>
    private string Structural(JsonObject schema, JsonNode root, int depth, bool includeNull)
    {
        var parts = new List<string>();
        if (schema.TryGetPropertyValue("const", out var constant))
        {
            parts.Add(Literal(constant));
        }
        else if (schema["enum"] is JsonArray values)
        {
            parts.AddRange(values.Where(v => includeNull || v is not null).Select(Literal));
        }
        else if ((schema["anyOf"] ?? schema["oneOf"]) is JsonArray alternatives)
        {
            parts.AddRange(alternatives.Select(a => Convert(a, root, depth + 1)));
            if (includeNull && TypeNames(schema).Contains("null"))
            {
                parts.Add("null");
            }
        }
        else
        {
            var types = TypeNames(schema);
            if (types.Count == 0)
            {
                // No "type": what its other keywords say it is, else anything.
                types = schema.ContainsKey("properties") || schema.ContainsKey("additionalProperties") ? ["object"] : schema.ContainsKey("items") ? ["array"] : [];
            }

            foreach (var type in types)
            {
                var part = type switch
                {
                    "null" => includeNull ? "null" : null,
                    "boolean" => "boolean",
                    "integer" or "number" => "number",
                    "string" => "string",
                    "array" => ArrayOf(schema["items"], root, depth),
                    "object" => ObjectLiteral(schema, root, depth),
                    _ => "unknown",
                };
                if (part is not null)
                {
                    parts.Add(part);
                }
            }
        }

        var distinct = parts.Distinct(StringComparer.Ordinal).ToList();
        return distinct.Count == 0 ? "unknown" : distinct.Contains("unknown") ? "unknown" : string.Join(" | ", distinct);
    }

    private void Declare(string name, JsonObject schema, JsonNode root, int depth)
    {
        if (!_declared.Add(name))
        {
            return;
        }

        var slot = _declarations.Count;
        _declarations.Add(null);
        var text = new StringBuilder();
        if (schema[SourceKeyword] is { } source)
        {
            text.Append("/** ").Append(Escape(source.GetValue<string>())).Append(" */\n");
        }

        var isObject = TypeNames(schema).Contains("object") || (TypeNames(schema).Count == 0 && schema.ContainsKey("properties"));
        if (isObject && !schema.ContainsKey("anyOf") && !schema.ContainsKey("oneOf") && !schema.ContainsKey("enum") && !schema.ContainsKey("const"))
        {
            text.Append("interface ").Append(name).Append(" {\n");
            foreach (var member in Members(schema, root, depth))
            {
                text.Append(Indent).Append(member.Replace("\n", "\n" + Indent, StringComparison.Ordinal)).Append('\n');
            }

            text.Append('}');
        }
        else
        {
            text.Append("type ").Append(name).Append(" = ").Append(Structural(schema, root, depth + 1, includeNull: false)).Append(';');
        }

        _declarations[slot] = text.ToString();
    }

    /// <summary>An object's members, one per line (a documented one with its comment on the line before).</summary>
    private List<string> Members(JsonObject schema, JsonNode root, int depth)
    {
        var members = new List<string>();
        var required = (schema["required"] as JsonArray)?.Select(r => r?.GetValue<string>()).ToHashSet(StringComparer.Ordinal) ?? [];
        var properties = schema["properties"] as JsonObject ?? [];
        foreach (var entry in properties)
        {
            var (name, property) = (entry.Key, entry.Value);
            // A discriminator ("$type": {"const": "circle"}) is always written.
            var optional = !required.Contains(name) && !(property is JsonObject p && p.ContainsKey("const"));
            var doc = Documentation(property);
            members.Add($"{doc}{Key(name)}{(optional ? "?" : "")}: {Convert(property, root, depth + 1)};");
        }

        if (schema["additionalProperties"] is { } additional && additional.GetValueKind() != JsonValueKind.False)
        {
            // Every named property's type must fit an index signature's, so beside named ones it says only "unknown".
            members.Add($"[key: string]: {(properties.Count == 0 ? Convert(additional, root, depth + 1) : "unknown")};");
        }

        return members;
    }

    private string ObjectLiteral(JsonObject schema, JsonNode root, int depth)
    {
        var members = Members(schema, root, depth);
        if (members.Count == 0)
        {
            // No properties and no additionalProperties: any object (an untyped dictionary, an empty record's shape).
            return schema.ContainsKey("properties") ? "{}" : "{ [key: string]: unknown }";
        }

        return "{ " + string.Join("; ", members.Select(m => m.Replace("\n", " ", StringComparison.Ordinal).TrimEnd(';'))) + " }";
    }

    private string ArrayOf(JsonNode? items, JsonNode root, int depth)
    {
        var item = Convert(items, root, depth + 1);
        return item.Contains(" | ", StringComparison.Ordinal) || item[0] == '{' ? $"({item})[]" : item + "[]";
    }

    private static string Documentation(JsonNode? property)
    {
        if (property is not JsonObject schema)
        {
            return "";
        }

        var lines = new List<string>();
        if (schema["description"] is JsonValue description && description.GetValueKind() == JsonValueKind.String)
        {
            lines.Add(Escape(description.GetValue<string>()));
        }

        if (schema.TryGetPropertyValue("default", out var value))
        {
            lines.Add("Default: " + Escape(value?.ToJsonString() ?? "null") + ".");
        }

        return lines.Count == 0 ? "" : "/** " + string.Join(" ", lines) + " */\n";
    }

    private static string Literal(JsonNode? value) => value?.GetValueKind() switch
    {
        null or JsonValueKind.Null => "null",
        JsonValueKind.String => Quote(value.GetValue<string>()),
        JsonValueKind.True => "true",
        JsonValueKind.False => "false",
        JsonValueKind.Number => value.ToJsonString(),
        _ => "unknown",
    };

    private static string? Name(JsonObject schema) => schema[NameKeyword] is JsonValue name && name.GetValueKind() == JsonValueKind.String ? name.GetValue<string>() : null;

    private static List<string> TypeNames(JsonObject schema) => schema["type"] switch
    {
        JsonValue single when single.GetValueKind() == JsonValueKind.String => [single.GetValue<string>()],
        JsonArray many => many.Select(t => t?.GetValue<string>()).OfType<string>().ToList(),
        _ => [],
    };

    /// <summary>A local reference: <c>#</c> or a JSON pointer below it (RFC 6901: <c>~1</c> is '/', <c>~0</c> is '~').</summary>
    private static JsonNode? Resolve(string reference, JsonNode root)
    {
        if (reference != "#" && !reference.StartsWith("#/", StringComparison.Ordinal))
        {
            throw new InvalidOperationException($"The schema refers to '{reference}', outside itself.");
        }

        var node = root;
        foreach (var segment in reference.Length == 1 ? [] : reference[2..].Split('/'))
        {
            var key = segment.Replace("~1", "/", StringComparison.Ordinal).Replace("~0", "~", StringComparison.Ordinal);
            node = node switch
            {
                JsonObject obj when obj.TryGetPropertyValue(key, out var child) => child,
                JsonArray array when int.TryParse(key, NumberStyles.None, CultureInfo.InvariantCulture, out var index) && index < array.Count => array[index],
                _ => throw new InvalidOperationException($"The schema's reference '{reference}' leads nowhere."),
            } ?? throw new InvalidOperationException($"The schema's reference '{reference}' leads to null.");
        }

        return node;
    }

    /// <summary>Text for a <c>/** */</c> comment: a "*/" inside would end it.</summary>
    private static string Escape(string text) => text.Replace("*/", "*\\/", StringComparison.Ordinal).Replace('\n', ' ').Replace('\r', ' ');
}
