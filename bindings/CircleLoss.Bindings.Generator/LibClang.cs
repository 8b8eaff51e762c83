// The part of libclang's C API (clang-c/Index.h) that the generator uses, declared by hand.
// libclang comes from the libclang.runtime.linux-x64 package (runtimes/linux-x64/native/libclang.so).
using System;
using System.Collections.Generic;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace CircleLoss.Bindings.Generator;

internal enum CXCursorKind
{
    StructDecl = 2,
    UnionDecl = 3,
    EnumDecl = 5,
    FieldDecl = 6,
    EnumConstantDecl = 7,
    FunctionDecl = 8,
    VarDecl = 9,
    ParmDecl = 10,
    TypedefDecl = 20,
    MacroDefinition = 501,
    MacroExpansion = 502,
    InclusionDirective = 503,
}

internal enum CXTypeKind
{
    Invalid = 0,
    Unexposed = 1,
    Void = 2,
    Bool = 3,
    Char_U = 4,
    UChar = 5,
    UShort = 8,
    UInt = 9,
    ULong = 10,
    ULongLong = 11,
    Char_S = 13,
    SChar = 14,
    Short = 16,
    Int = 17,
    Long = 18,
    LongLong = 19,
    Float = 21,
    Double = 22,
    Pointer = 101,
    Record = 105,
    Enum = 106,
    Typedef = 107,
    FunctionNoProto = 110,
    FunctionProto = 111,
    ConstantArray = 112,
    IncompleteArray = 114,
    Elaborated = 119,
}

internal enum CXDiagnosticSeverity
{
    Ignored = 0,
    Note = 1,
    Warning = 2,
    Error = 3,
    Fatal = 4,
}

internal enum CXTokenKind
{
    Punctuation = 0,
    Keyword = 1,
    Identifier = 2,
    Literal = 3,
    Comment = 4,
}

internal enum CXChildVisitResult
{
    Break = 0,
    Continue = 1,
    Recurse = 2,
}

[StructLayout(LayoutKind.Sequential)]
internal struct CXString
{
    public IntPtr Data;
    public uint PrivateFlags;
}

[StructLayout(LayoutKind.Sequential)]
internal unsafe struct CXCursor
{
    public CXCursorKind Kind;
    public int XData;
    public IntPtr Data0;
    public IntPtr Data1;
    public IntPtr Data2;
}

[StructLayout(LayoutKind.Sequential)]
internal struct CXType
{
    public CXTypeKind Kind;
    public IntPtr Data0;
    public IntPtr Data1;
}

[StructLayout(LayoutKind.Sequential)]
internal struct CXSourceLocation
{
    public IntPtr PtrData0;
    public IntPtr PtrData1;
    public uint IntData;
}

[StructLayout(LayoutKind.Sequential)]
internal struct CXSourceRange
{
    public IntPtr PtrData0;
    public IntPtr PtrData1;
    public uint BeginIntData;
    public uint EndIntData;
}

[StructLayout(LayoutKind.Sequential)]
internal struct CXToken
{
    public uint IntData0;
    public uint IntData1;
    public uint IntData2;
    public uint IntData3;
    public IntPtr PtrData;
}

internal static unsafe partial class LibClang
{
    private const string Lib = "libclang";

    public const uint TranslationUnitDetailedPreprocessingRecord = 0x01;

    [LibraryImport(Lib)] public static partial IntPtr clang_createIndex(int excludeDeclarationsFromPch, int displayDiagnostics);
    [LibraryImport(Lib)] public static partial void clang_disposeIndex(IntPtr index);

    [LibraryImport(Lib)]
    public static partial int clang_parseTranslationUnit2(IntPtr index, byte* sourceFilename, byte** commandLineArgs, int numArgs,
        IntPtr unsavedFiles, uint numUnsavedFiles, uint options, IntPtr* outTranslationUnit);

    [LibraryImport(Lib)] public static partial void clang_disposeTranslationUnit(IntPtr translationUnit);
    [LibraryImport(Lib)] public static partial uint clang_getNumDiagnostics(IntPtr translationUnit);
    [LibraryImport(Lib)] public static partial IntPtr clang_getDiagnostic(IntPtr translationUnit, uint index);
    [LibraryImport(Lib)] public static partial CXDiagnosticSeverity clang_getDiagnosticSeverity(IntPtr diagnostic);
    [LibraryImport(Lib)] public static partial CXString clang_formatDiagnostic(IntPtr diagnostic, uint options);
    [LibraryImport(Lib)] public static partial uint clang_defaultDiagnosticDisplayOptions();
    [LibraryImport(Lib)] public static partial void clang_disposeDiagnostic(IntPtr diagnostic);

    [LibraryImport(Lib)] public static partial CXCursor clang_getTranslationUnitCursor(IntPtr translationUnit);
    [LibraryImport(Lib)] public static partial uint clang_visitChildren(CXCursor parent, delegate* unmanaged<CXCursor, CXCursor, IntPtr, CXChildVisitResult> visitor, IntPtr clientData);
    [LibraryImport(Lib)] public static partial CXCursorKind clang_getCursorKind(CXCursor cursor);
    [LibraryImport(Lib)] public static partial CXString clang_getCursorSpelling(CXCursor cursor);
    [LibraryImport(Lib)] public static partial CXType clang_getCursorType(CXCursor cursor);
    [LibraryImport(Lib)] public static partial CXSourceLocation clang_getCursorLocation(CXCursor cursor);
    [LibraryImport(Lib)] public static partial int clang_Location_isFromMainFile(CXSourceLocation location);
    [LibraryImport(Lib)] public static partial void clang_getSpellingLocation(CXSourceLocation location, IntPtr* file, uint* line, uint* column, uint* offset);
    [LibraryImport(Lib)] public static partial uint clang_isCursorDefinition(CXCursor cursor);
    [LibraryImport(Lib)] public static partial CXCursor clang_getCursorDefinition(CXCursor cursor);
    [LibraryImport(Lib)] public static partial int clang_Cursor_isNull(CXCursor cursor);
    [LibraryImport(Lib)] public static partial uint clang_Cursor_isBitField(CXCursor cursor);
    [LibraryImport(Lib)] public static partial uint clang_Cursor_isAnonymous(CXCursor cursor);
    [LibraryImport(Lib)] public static partial CXString clang_Cursor_getRawCommentText(CXCursor cursor);
    [LibraryImport(Lib)] public static partial CXType clang_getTypedefDeclUnderlyingType(CXCursor cursor);
    [LibraryImport(Lib)] public static partial CXType clang_getEnumDeclIntegerType(CXCursor cursor);
    [LibraryImport(Lib)] public static partial long clang_getEnumConstantDeclValue(CXCursor cursor);
    [LibraryImport(Lib)] public static partial CXType clang_getCursorResultType(CXCursor cursor);
    [LibraryImport(Lib)] public static partial int clang_Cursor_getNumArguments(CXCursor cursor);
    [LibraryImport(Lib)] public static partial CXCursor clang_Cursor_getArgument(CXCursor cursor, uint index);
    [LibraryImport(Lib)] public static partial uint clang_Cursor_isMacroFunctionLike(CXCursor cursor);
    [LibraryImport(Lib)] public static partial long clang_Cursor_getOffsetOfField(CXCursor cursor);
    [LibraryImport(Lib)] public static partial CXSourceRange clang_getCursorExtent(CXCursor cursor);

    [LibraryImport(Lib)] public static partial void clang_tokenize(IntPtr translationUnit, CXSourceRange range, CXToken** tokens, uint* numTokens);
    [LibraryImport(Lib)] public static partial CXTokenKind clang_getTokenKind(CXToken token);
    [LibraryImport(Lib)] public static partial CXString clang_getTokenSpelling(IntPtr translationUnit, CXToken token);
    [LibraryImport(Lib)] public static partial void clang_disposeTokens(IntPtr translationUnit, CXToken* tokens, uint numTokens);

    [LibraryImport(Lib)] public static partial CXType clang_getPointeeType(CXType type);
    [LibraryImport(Lib)] public static partial CXType clang_Type_getNamedType(CXType type);
    [LibraryImport(Lib)] public static partial CXCursor clang_getTypeDeclaration(CXType type);
    [LibraryImport(Lib)] public static partial uint clang_isConstQualifiedType(CXType type);
    [LibraryImport(Lib)] public static partial CXString clang_getTypeSpelling(CXType type);
    [LibraryImport(Lib)] public static partial long clang_Type_getSizeOf(CXType type);
    [LibraryImport(Lib)] public static partial long clang_Type_getAlignOf(CXType type);
    [LibraryImport(Lib)] public static partial uint clang_isFunctionTypeVariadic(CXType type);

    [LibraryImport(Lib)] public static partial byte* clang_getCString(CXString text);
    [LibraryImport(Lib)] public static partial void clang_disposeString(CXString text);
    [LibraryImport(Lib)] public static partial CXString clang_getClangVersion();

    /// <summary>Copies a CXString into a managed string and disposes it.</summary>
    public static string Take(CXString text)
    {
        try
        {
            byte* chars = clang_getCString(text);
            return chars == null ? string.Empty : Marshal.PtrToStringUTF8((IntPtr)chars) ?? string.Empty;
        }
        finally
        {
            clang_disposeString(text);
        }
    }

    public static string Spelling(CXCursor cursor) => Take(clang_getCursorSpelling(cursor));

    public static string Spelling(CXType type) => Take(clang_getTypeSpelling(type));

    /// <summary>
    /// The direct children of a cursor, in source order. The visitor only copies cursors into a list:
    /// an exception escaping an unmanaged callback would end the process, so nothing else runs inside it.
    /// </summary>
    public static List<CXCursor> Children(CXCursor parent)
    {
        var children = new List<CXCursor>();
        var handle = GCHandle.Alloc(children);
        try
        {
            clang_visitChildren(parent, &CollectChild, GCHandle.ToIntPtr(handle));
        }
        finally
        {
            handle.Free();
        }

        return children;
    }

    [UnmanagedCallersOnly]
    private static CXChildVisitResult CollectChild(CXCursor cursor, CXCursor parent, IntPtr clientData)
    {
        try
        {
            var children = (List<CXCursor>)GCHandle.FromIntPtr(clientData).Target!;
            children.Add(cursor);
            return CXChildVisitResult.Continue;
        }
        catch (Exception)
        {
            // Never let an exception cross into native code; stopping the walk makes the caller see
            // too few children, and the model's consistency checks report it.
            return CXChildVisitResult.Break;
        }
    }

    /// <summary>The line of a cursor's location (1-based).</summary>
    public static uint Line(CXCursor cursor)
    {
        uint line, column, offset;
        IntPtr file;
        clang_getSpellingLocation(clang_getCursorLocation(cursor), &file, &line, &column, &offset);
        return line;
    }

    /// <summary>The tokens of a cursor's extent (for macros: the name, then the replacement list).</summary>
    public static List<(CXTokenKind Kind, string Text)> Tokens(IntPtr translationUnit, CXCursor cursor)
    {
        var result = new List<(CXTokenKind, string)>();
        CXToken* tokens = null;
        uint count = 0;
        clang_tokenize(translationUnit, clang_getCursorExtent(cursor), &tokens, &count);
        try
        {
            for (uint i = 0; i < count; i++)
            {
                result.Add((clang_getTokenKind(tokens[i]), Take(clang_getTokenSpelling(translationUnit, tokens[i]))));
            }
        }
        finally
        {
            if (tokens != null)
            {
                clang_disposeTokens(translationUnit, tokens, count);
            }
        }

        return result;
    }

    [SkipLocalsInit]
    public static byte[] Utf8Z(string text)
    {
        int count = System.Text.Encoding.UTF8.GetByteCount(text);
        var bytes = new byte[count + 1];
        System.Text.Encoding.UTF8.GetBytes(text, bytes);
        return bytes;
    }
}
