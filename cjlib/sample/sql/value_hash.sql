-- A 64-bit hash of each value of the registered Arrow table `sample_text`, in row order.
-- The sample generator uses it to find candidate duplicate rows quickly; equality of the
-- candidates is then checked exactly, so the hash never decides anything on its own.
SELECT hash(value) AS h FROM sample_text
