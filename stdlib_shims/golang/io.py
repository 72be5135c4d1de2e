# -*- coding: utf-8 -*-
"""Package io mirrors Go package io: the EOF errors."""

from golang import errors

__all__ = ['EOF', 'ErrUnexpectedEOF']

# EOF is the error reported when no more input is available.
EOF = errors.New("EOF")

# ErrUnexpectedEOF means that EOF came in the middle of a block of data.
ErrUnexpectedEOF = errors.New("unexpected EOF")
