using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Text;
using static CircleLoss.Bindings.Generator.LibClang;

namespace CircleLoss.Bindings.Generator;

/// <summary>Thrown for anything in the header the generator cannot map faithfully.</summary>
internal sealed class GeneratorException(string message) : Exception(message);

/// <summary>Parses the C header with libclang and builds the <see cref="HeaderModel"/>.</summary>
internal sealed unsafe class HeaderParser
{
    /// <summary>
    /// Fixed-width and pointer-sized typedefs, mapped by their spelling (never by the canonical type,
    /// which differs between platforms: int64_t is `long` on LP64 Linux and `long long` elsewhere).
    /// </summary>
    private static readonly Dictionary<string, string> TypedefMap = new(StringComparer.Ordinal)
    {
        ["int8_t"] = "sbyte",
        ["uint8_t"] = "byte",
        ["int16_t"] = "short",
        ["uint16_t"] = "ushort",
        ["int32_t"] = "int",
        ["uint32_t"] = "uint",
        ["int64_t"] = "long",
        ["uint64_t"] = "ulong",
        ["size_t"] = "nuint",
        ["ptrdiff_t"] = "nint",
        ["intptr_t"] = "nint",
        ["uintptr_t"] = "nuint",
    };

    private readonly IntPtr _translationUnit;
    private readonly string _prefix;

    // Names of the enums and structs the header declares (their typedefs carry the same name).
    private readonly HashSet<string> _enumNames = new(StringComparer.Ordinal);
    private readonly HashSet<string> _structNames = new(StringComparer.Ordinal);

    private HeaderParser(IntPtr translationUnit, string prefix)
    {
        _translationUnit = translationUnit;
        _prefix = prefix;
    }

    /// <summary>Parses <paramref name="headerPath"/>; fails on any error diagnostic.</summary>
    public static HeaderModel Parse(string headerPath, string headerRelativePath, IReadOnlyList<string> clangArguments, string prefix)
    {
        IntPtr index = clang_createIndex(0, 0);
        if (index == IntPtr.Zero)
        {
            throw new GeneratorException("clang_createIndex failed.");
        }

        try
        {
            IntPtr translationUnit = ParseTranslationUnit(index, headerPath, clangArguments);
            try
            {
                return new HeaderParser(translationUnit, prefix).Build(headerRelativePath);
            }
            finally
            {
                clang_disposeTranslationUnit(translationUnit);
            }
        }
        finally
        {
            clang_disposeIndex(index);
        }
    }

    private static IntPtr ParseTranslationUnit(IntPtr index, string headerPath, IReadOnlyList<string> clangArguments)
    {
        byte[][] argumentBytes = clangArguments.Select(Utf8Z).ToArray();
        var handles = new System.Runtime.InteropServices.GCHandle[argumentBytes.Length];
        var argumentPointers = new IntPtr[argumentBytes.Length];
        try
        {
            for (int i = 0; i < argumentBytes.Length; i++)
            {
                handles[i] = System.Runtime.InteropServices.GCHandle.Alloc(argumentBytes[i], System.Runtime.InteropServices.GCHandleType.Pinned);
                argumentPointers[i] = handles[i].AddrOfPinnedObject();
            }

            byte[] path = Utf8Z(headerPath);
            IntPtr translationUnit;
            int error;
            fixed (byte* pathPointer = path)
            fixed (IntPtr* argv = argumentPointers)
            {
                error = clang_parseTranslationUnit2(index, pathPointer, (byte**)argv, argumentPointers.Length, IntPtr.Zero, 0,
                    TranslationUnitDetailedPreprocessingRecord, &translationUnit);
            }

            if (error != 0 || translationUnit == IntPtr.Zero)
            {
                throw new GeneratorException($"libclang could not parse {headerPath} (CXErrorCode {error}).");
            }

            // A missing header still gives a translation unit, with wrong types and layouts: any error fails.
            var problems = new List<string>();
            uint count = clang_getNumDiagnostics(translationUnit);
            for (uint i = 0; i < count; i++)
            {
                IntPtr diagnostic = clang_getDiagnostic(translationUnit, i);
                try
                {
                    CXDiagnosticSeverity severity = clang_getDiagnosticSeverity(diagnostic);
                    string text = Take(clang_formatDiagnostic(diagnostic, clang_defaultDiagnosticDisplayOptions()));
                    if (severity >= CXDiagnosticSeverity.Warning)
                    {
                        problems.Add(text);
                    }
                }
                finally
                {
                    clang_disposeDiagnostic(diagnostic);
                }
            }

            if (problems.Count > 0)
            {
                clang_disposeTranslationUnit(translationUnit);
                throw new GeneratorException("libclang reported problems while parsing the header (warnings count as errors):"
                    + Environment.NewLine + string.Join(Environment.NewLine, problems));
            }

            return translationUnit;
        }
        finally
        {
            foreach (var handle in handles)
            {
                if (handle.IsAllocated)
                {
                    handle.Free();
                }
            }
        }
    }

    private HeaderModel Build(string headerRelativePath)
    {
        var cursors = Children(clang_getTranslationUnitCursor(_translationUnit))
            .Where(c => clang_Location_isFromMainFile(clang_getCursorLocation(c)) != 0)
            .ToList();

        // First pass: the names of the header's own types, so that typedefs of them map to them.
        foreach (var cursor in cursors)
        {
            switch (clang_getCursorKind(cursor))
            {
                case CXCursorKind.EnumDecl:
                    _enumNames.Add(RequireNamed(cursor, "enum"));
                    break;
                case CXCursorKind.StructDecl:
                    _structNames.Add(RequireNamed(cursor, "struct"));
                    break;
                case CXCursorKind.UnionDecl:
                    throw new GeneratorException($"line {Line(cursor)}: unions are not supported by the bindings.");
            }
        }

        var constants = new List<ConstantModel>();
        var enums = new List<EnumModel>();
        var structs = new List<StructModel>();
        var functions = new List<FunctionModel>();
        var seenEnums = new HashSet<string>(StringComparer.Ordinal);
        var seenStructs = new HashSet<string>(StringComparer.Ordinal);

        foreach (var cursor in cursors)
        {
            switch (clang_getCursorKind(cursor))
            {
                case CXCursorKind.MacroDefinition:
                    if (ParseMacro(cursor) is { } constant)
                    {
                        constants.Add(constant);
                    }

                    break;

                case CXCursorKind.EnumDecl:
                    // `typedef enum X {...} X;` shows the enum and then the typedef: take the definition once.
                    if (clang_isCursorDefinition(cursor) != 0 && seenEnums.Add(Spelling(cursor)))
                    {
                        enums.Add(ParseEnum(cursor));
                    }

                    break;

                case CXCursorKind.StructDecl:
                {
                    string name = Spelling(cursor);
                    CXCursor definition = clang_getCursorDefinition(cursor);
                    bool isOpaque = clang_Cursor_isNull(definition) != 0;
                    if (isOpaque)
                    {
                        if (seenStructs.Add(name))
                        {
                            structs.Add(new StructModel(name, true, 0, 0, Array.Empty<FieldModel>(), Comment(cursor)));
                        }
                    }
                    else if (clang_isCursorDefinition(cursor) != 0 && seenStructs.Add(name))
                    {
                        structs.Add(ParseStruct(cursor));
                    }

                    break;
                }

                case CXCursorKind.TypedefDecl:
                    CheckTypedef(cursor);
                    break;

                case CXCursorKind.FunctionDecl:
                    functions.Add(ParseFunction(cursor));
                    break;

                case CXCursorKind.VarDecl:
                    throw new GeneratorException($"line {Line(cursor)}: global variables are not supported by the bindings ({Spelling(cursor)}).");
            }
        }

        // A struct that is only ever forward-declared later in the file and defined earlier is a definition.
        var definedNames = structs.Where(s => !s.IsOpaque).Select(s => s.Name).ToHashSet(StringComparer.Ordinal);
        structs = structs.Where(s => !s.IsOpaque || !definedNames.Contains(s.Name)).ToList();

        return new HeaderModel(headerRelativePath, constants, enums, structs, functions);
    }

    private static string RequireNamed(CXCursor cursor, string what)
    {
        if (clang_Cursor_isAnonymous(cursor) != 0)
        {
            throw new GeneratorException($"line {Line(cursor)}: anonymous {what}s are not supported; give it a tag name.");
        }

        return Spelling(cursor);
    }

    private void CheckTypedef(CXCursor cursor)
    {
        // Only `typedef enum X ... X;` and `typedef struct X ... X;` are allowed: the bindings use the tag name.
        string name = Spelling(cursor);
        CXType underlying = Unwrap(clang_getTypedefDeclUnderlyingType(cursor));
        if ((underlying.Kind == CXTypeKind.Enum || underlying.Kind == CXTypeKind.Record)
            && Spelling(clang_getTypeDeclaration(underlying)) == name)
        {
            return;
        }

        throw new GeneratorException($"line {Line(cursor)}: typedef {name} is not `typedef enum/struct {name} ... {name};`; "
            + "the bindings only support typedefs that repeat the tag name.");
    }

    private ConstantModel? ParseMacro(CXCursor cursor)
    {
        if (clang_Cursor_isMacroFunctionLike(cursor) != 0)
        {
            throw new GeneratorException($"line {Line(cursor)}: function-like macro {Spelling(cursor)}; the header promises object-like macros only.");
        }

        string name = Spelling(cursor);
        if (!name.StartsWith(_prefix.ToUpperInvariant(), StringComparison.Ordinal))
        {
            return null;
        }

        var tokens = Tokens(_translationUnit, cursor);
        if (tokens.Count != 2 || tokens[1].Kind != CXTokenKind.Literal)
        {
            // Empty (include guard, export attribute) or not a single literal (the *_INIT initialisers).
            return null;
        }

        string literal = tokens[1].Text;
        if (literal.StartsWith('"'))
        {
            return new ConstantModel(name, "string", literal, null);
        }

        string digits = literal.TrimEnd('u', 'U', 'l', 'L');
        bool unsigned = literal.Length != digits.Length && literal.Contains('u', StringComparison.OrdinalIgnoreCase);
        ulong value;
        bool parsed = digits.StartsWith("0x", StringComparison.OrdinalIgnoreCase)
            ? ulong.TryParse(digits.AsSpan(2), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out value)
            : ulong.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out value);
        if (!parsed)
        {
            // A floating-point or character literal: not used by the header today.
            throw new GeneratorException($"line {Line(cursor)}: macro {name} has a literal the generator cannot map: {literal}");
        }

        string type = unsigned
            ? (value <= uint.MaxValue ? "uint" : "ulong")
            : (value <= int.MaxValue ? "int" : value <= long.MaxValue ? "long" : "ulong");
        return new ConstantModel(name, type, value.ToString(CultureInfo.InvariantCulture), null);
    }

    private EnumModel ParseEnum(CXCursor cursor)
    {
        string name = Spelling(cursor);
        CXType integerType = clang_getEnumDeclIntegerType(cursor);
        string underlying = MapBuiltin(integerType, allowChar: false)
            ?? throw new GeneratorException($"line {Line(cursor)}: enum {name} has an unsupported integer type {Spelling(integerType)}.");
        var members = new List<EnumMemberModel>();
        foreach (var child in Children(cursor))
        {
            if (clang_getCursorKind(child) == CXCursorKind.EnumConstantDecl)
            {
                members.Add(new EnumMemberModel(Spelling(child), clang_getEnumConstantDeclValue(child), Comment(child)));
            }
        }

        return new EnumModel(name, underlying, clang_Type_getSizeOf(clang_getCursorType(cursor)), members, Comment(cursor));
    }

    private StructModel ParseStruct(CXCursor cursor)
    {
        string name = Spelling(cursor);
        CXType type = clang_getCursorType(cursor);
        var fields = new List<FieldModel>();
        foreach (var child in Children(cursor))
        {
            CXCursorKind kind = clang_getCursorKind(child);
            if (kind is CXCursorKind.StructDecl or CXCursorKind.UnionDecl or CXCursorKind.EnumDecl)
            {
                throw new GeneratorException($"line {Line(child)}: nested type declarations in {name} are not supported.");
            }

            if (kind != CXCursorKind.FieldDecl)
            {
                continue;
            }

            string fieldName = Spelling(child);
            if (clang_Cursor_isBitField(child) != 0)
            {
                throw new GeneratorException($"line {Line(child)}: bitfield {name}.{fieldName} is not supported.");
            }

            CXType fieldType = clang_getCursorType(child);
            long offsetBits = clang_Cursor_getOffsetOfField(child);
            long size = clang_Type_getSizeOf(fieldType);
            if (offsetBits < 0 || offsetBits % 8 != 0 || size <= 0)
            {
                throw new GeneratorException($"line {Line(child)}: libclang gives no layout for {name}.{fieldName} (offset {offsetBits} bits, size {size}).");
            }

            fields.Add(new FieldModel(fieldName, MapType(fieldType, $"{name}.{fieldName}"), Spelling(fieldType), offsetBits / 8, size, Comment(child)));
        }

        long structSize = clang_Type_getSizeOf(type);
        long alignment = clang_Type_getAlignOf(type);
        if (structSize <= 0 || alignment <= 0)
        {
            throw new GeneratorException($"line {Line(cursor)}: libclang gives no layout for struct {name}.");
        }

        return new StructModel(name, false, structSize, alignment, fields, Comment(cursor));
    }

    private FunctionModel ParseFunction(CXCursor cursor)
    {
        string name = Spelling(cursor);
        CXType type = clang_getCursorType(cursor);
        if (type.Kind != CXTypeKind.FunctionProto)
        {
            throw new GeneratorException($"line {Line(cursor)}: {name} has no prototype; write (void) for no parameters.");
        }

        if (clang_isFunctionTypeVariadic(type) != 0)
        {
            throw new GeneratorException($"line {Line(cursor)}: {name} is variadic; the header promises no varargs.");
        }

        CXType result = clang_getCursorResultType(cursor);
        var parameters = new List<ParameterModel>();
        int count = clang_Cursor_getNumArguments(cursor);
        for (uint i = 0; i < count; i++)
        {
            CXCursor argument = clang_Cursor_getArgument(cursor, i);
            string argumentName = Spelling(argument);
            if (argumentName.Length == 0)
            {
                argumentName = "arg" + i.ToString(CultureInfo.InvariantCulture);
            }

            CXType argumentType = clang_getCursorType(argument);
            parameters.Add(new ParameterModel(argumentName, MapType(argumentType, $"{name}({argumentName})"), Spelling(argumentType)));
        }

        return new FunctionModel(name, MapType(result, $"{name} (result)"), Spelling(result), parameters, Comment(cursor));
    }

    private static CXType Unwrap(CXType type)
    {
        while (type.Kind == CXTypeKind.Elaborated)
        {
            type = clang_Type_getNamedType(type);
        }

        return type;
    }

    /// <summary>Maps a C type to a blittable C# type; pointers stay pointers.</summary>
    private string MapType(CXType type, string where)
    {
        type = Unwrap(type);
        switch (type.Kind)
        {
            case CXTypeKind.Pointer:
            {
                CXType pointee = Unwrap(clang_getPointeeType(type));
                if (pointee.Kind is CXTypeKind.FunctionProto or CXTypeKind.FunctionNoProto)
                {
                    throw new GeneratorException($"{where}: function pointers are not supported.");
                }

                if (pointee.Kind == CXTypeKind.Void)
                {
                    return "void*";
                }

                return MapType(pointee, where) + "*";
            }

            case CXTypeKind.Typedef:
            {
                string name = Spelling(clang_getTypeDeclaration(type));
                if (TypedefMap.TryGetValue(name, out string? mapped))
                {
                    return mapped;
                }

                if (_enumNames.Contains(name) || _structNames.Contains(name))
                {
                    return name;
                }

                throw new GeneratorException($"{where}: typedef {name} has no mapping; use a fixed-width type or one of the header's own types.");
            }

            case CXTypeKind.Record:
            case CXTypeKind.Enum:
            {
                string name = Spelling(clang_getTypeDeclaration(type));
                if (_enumNames.Contains(name) || _structNames.Contains(name))
                {
                    return name;
                }

                throw new GeneratorException($"{where}: type {name} is not declared in the header.");
            }

            case CXTypeKind.ConstantArray:
            case CXTypeKind.IncompleteArray:
                throw new GeneratorException($"{where}: arrays are not supported; use a pointer and a length.");

            default:
                return MapBuiltin(type, allowChar: true)
                    ?? throw new GeneratorException($"{where}: type {Spelling(type)} is not supported (use fixed-width integer types).");
        }
    }

    private static string? MapBuiltin(CXType type, bool allowChar) => Unwrap(type).Kind switch
    {
        CXTypeKind.Void => "void",
        CXTypeKind.Char_S or CXTypeKind.Char_U when allowChar => "byte", // text: UTF-8 bytes, decoded by the façade
        CXTypeKind.Int => "int",
        CXTypeKind.UInt => "uint",
        CXTypeKind.Float => "float",
        CXTypeKind.Double => "double",
        // `long`, `short`, `long long` and friends differ between platforms: the header uses fixed-width types.
        _ => null,
    };

    /// <summary>The comment libclang attaches to a declaration, without its delimiters.</summary>
    private static string? Comment(CXCursor cursor)
    {
        string raw = Take(clang_Cursor_getRawCommentText(cursor));
        if (raw.Length == 0)
        {
            return null;
        }

        var lines = new List<string>();
        foreach (string rawLine in raw.Replace("\r\n", "\n", StringComparison.Ordinal).Split('\n'))
        {
            string line = rawLine.Trim();
            if (line.StartsWith("/*", StringComparison.Ordinal))
            {
                line = line[2..];
            }

            if (line.EndsWith("*/", StringComparison.Ordinal))
            {
                line = line[..^2];
            }

            if (line.StartsWith("//", StringComparison.Ordinal))
            {
                line = line[2..];
            }

            line = line.TrimStart('*', '<', '!').Trim();
            lines.Add(line);
        }

        // A section banner (a title between two rules) introduces a part of the header, not the
        // declaration after it: keep only what follows the last rule.
        int lastRule = lines.FindLastIndex(IsRule);
        var kept = lines.Skip(lastRule + 1).ToList();
        while (kept.Count > 0 && kept[0].Length == 0)
        {
            kept.RemoveAt(0);
        }

        while (kept.Count > 0 && kept[^1].Length == 0)
        {
            kept.RemoveAt(kept.Count - 1);
        }

        return kept.Count == 0 ? null : string.Join("\n", kept);
    }

    private static bool IsRule(string line) => line.Length > 3 && line.All(ch => ch == '-' || ch == '=' || ch == '*');
}
