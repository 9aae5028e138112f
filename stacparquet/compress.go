package stacparquet

import (
	"sync"

	kzstd "github.com/klauspost/compress/zstd"
	"github.com/parquet-go/parquet-go/compress/zstd"
	"github.com/parquet-go/parquet-go/format"
)

// zstdCodec is parquet-go's zstd codec with encoders of a small window:
// pages are 64 KiB, and parquet-go's encoders keep an 8 MiB window (16 MiB
// of history each, one per page compressed at once).
type zstdCodec struct {
	zstd.Codec // decoding, and the name
	level      kzstd.EncoderLevel
	encoders   sync.Pool
}

// zstdWindow is the window of the encoders: the largest pages, 64 KiB
// and the rows that go past it, fit.
const zstdWindow = 1 << 20

func newZstdCodec(level kzstd.EncoderLevel) *zstdCodec {
	return &zstdCodec{Codec: zstd.Codec{Level: level}, level: level}
}

func (c *zstdCodec) CompressionCodec() format.CompressionCodec { return format.Zstd }

func (c *zstdCodec) Encode(dst, src []byte) ([]byte, error) {
	e, _ := c.encoders.Get().(*kzstd.Encoder)
	if e == nil {
		var err error
		e, err = kzstd.NewWriter(nil,
			kzstd.WithEncoderConcurrency(1),
			kzstd.WithEncoderLevel(c.level),
			kzstd.WithWindowSize(zstdWindow),
			kzstd.WithLowerEncoderMem(true),
			kzstd.WithZeroFrames(true),
			kzstd.WithEncoderCRC(false),
		)
		if err != nil {
			return dst[:0], err
		}
	}
	out := e.EncodeAll(src, dst[:0])
	c.encoders.Put(e)
	return out, nil
}
