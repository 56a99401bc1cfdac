import { convert } from '../../catalog-data'

export default (args: { amount: number; from_currency: string; to_currency: string }) =>
  convert(args.amount, args.from_currency, args.to_currency)
